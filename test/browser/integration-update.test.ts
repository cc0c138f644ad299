// "Update available" in <plug-integration-dialog> (issue 12): an instance behind the integration's
// current version shows the changelog; "Update" is offered only when the vendor lets customers
// upgrade themselves, and upgrades the instance through POST /instances/:id/upgrade.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import '../../src/elements/integration-dialog/define.js';
import type { PlugIntegrationDialog } from '../../src/elements/integration-dialog/integration-dialog.js';
import type { Instance } from '../../src/protocol/index.js';
import { button, root, shown, text, toastSettled } from './dialog-driver.js';
import { API, FakeApi, instance, json, slackDetail } from './fake-api.js';

describe('<plug-integration-dialog> update available', () => {
  let fake: FakeApi;
  let current: Instance;
  const behind = (selfUpgrade: boolean) =>
    instance({
      status: 'active',
      connections: [{ name: 'slack', kind: 'apiKey', status: 'connected' }],
      integrationVersion: '1.0.0',
      update: {
        version: '2.0.0',
        changelog: [
          { version: '2.0.0', notes: 'Replies go to the deal’s thread.' },
          { version: '1.1.0', notes: 'Adds a message template per stage.' },
        ],
        selfUpgrade,
      },
    });
  afterEach(() => fake.restore());

  async function openDialog(at: Instance) {
    current = at;
    fake = new FakeApi()
      .on('GET', '/integrations/slack', { ...slackDetail, instance: current })
      .on('GET', '/instances/inst-1', () => json(current))
      .on('POST', '/instances/inst-1/upgrade', () => {
        current = instance({ ...current, integrationVersion: '2.0.0', previousVersion: '1.0.0', update: undefined, version: current.version + 1 });
        return json(current);
      });
    const el = await fixture<PlugIntegrationDialog>(
      html`<plug-integration-dialog api=${API} token="t" integration-key="slack" mode="modal" open></plug-integration-dialog>`,
    );
    await shown(el, 'What it needs');
    return el;
  }

  it('shows the changelog and upgrades with "Update" when the customer may', async () => {
    const el = await openDialog(behind(true));
    await shown(el, 'Update available: version 2.0.0');
    expect(text(el)).to.contain('You have version 1.0.0.');
    const entries = [...root(el).querySelectorAll('.changelog dt')].map((dt) => `${dt.textContent!.trim()}: ${dt.nextElementSibling!.textContent!.trim()}`);
    expect(entries).to.deep.equal(['2.0.0: Replies go to the deal’s thread.', '1.1.0: Adds a message template per stage.']);
    await expect(el).to.be.accessible();

    button(el, 'Update').click();
    await waitUntil(() => fake.count('POST', '/instances/inst-1/upgrade') === 1, 'no upgrade call');
    await waitUntil(() => !text(el).includes('Update available'), `still offered: ${text(el)}`);
    await shown(el, 'Updated to version 2.0.0');
    await toastSettled(el);
    await expect(el).to.be.accessible();
  });

  it('without self-upgrade says the provider applies it, and offers no button', async () => {
    const el = await openDialog(behind(false));
    await shown(el, 'Update available: version 2.0.0');
    expect(text(el)).to.contain('Your provider will apply this update.');
    expect([...root(el).querySelectorAll('button')].some((b) => b.textContent!.trim() === 'Update')).to.equal(false);
    await expect(el).to.be.accessible();
  });

  it('an instance on the current version shows nothing about updates', async () => {
    const el = await openDialog(instance({ status: 'active', integrationVersion: '2.0.0' }));
    expect(text(el)).not.to.contain('Update available');
  });
});
