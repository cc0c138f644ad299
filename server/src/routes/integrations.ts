// The marketplace catalog and integration detail, with this customer's instance merged in.
import { Hono } from 'hono';
import type { Catalog, IntegrationDetail, IntegrationSummary } from 'plugboard/protocol';
import type { Integration } from '../sdk/index.js';
import type { CustomerEnv, Services } from '../env.js';
import { notFound } from '../problem.js';
import type { InstanceRecord } from '../store/types.js';

function summary(integration: Integration, instance: InstanceRecord | undefined): IntegrationSummary {
  return {
    key: integration.key,
    name: integration.name,
    description: integration.description,
    category: integration.category,
    ...(integration.icon !== undefined ? { icon: integration.icon } : {}),
    version: integration.version,
    instance: instance ? { id: instance.id, status: instance.status, updatedAt: instance.updatedAt } : null,
  };
}

export function integrationRoutes({ integrations }: Pick<Services, 'integrations'>): Hono<CustomerEnv> {
  const app = new Hono<CustomerEnv>();

  app.get('/integrations', async (c) => {
    // One query for all of this customer's instances, merged by key.
    const instances = await c.get('tenant').listInstances();
    const byKey = new Map(instances.map((i) => [i.integrationKey, i]));
    const body: Catalog = { integrations: [...integrations.values()].map((i) => summary(i, byKey.get(i.key))) };
    return c.json(body);
  });

  app.get('/integrations/:key', async (c) => {
    const integration = integrations.get(c.req.param('key'));
    if (!integration) throw notFound(`Integration "${c.req.param('key')}"`);
    const instances = await c.get('tenant').listInstances();
    const instance = instances.find((i) => i.integrationKey === integration.key);
    const body: IntegrationDetail = { ...integration.describe(), ...summary(integration, instance) };
    return c.json(body);
  });

  return app;
}
