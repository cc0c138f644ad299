// The one line an app adds for typed <plug-*> tags in JSX (or `"types": ["plugboard/react"]`).
import type {} from 'plugboard/react';
import 'plugboard';
import { useRef, useState } from 'react';
import type { InstanceEventDetail, PlugIntegrationDialog, Translations } from 'plugboard';

const api = 'https://plugboard.example.com/api/v1';

async function getToken(): Promise<string> {
  const res = await fetch('/plugboard-token', { credentials: 'include' });
  return ((await res.json()) as { token: string }).token;
}

const translations: Translations = { 'marketplace.title': 'Apps' };

export function App() {
  const [active, setActive] = useState<string[]>([]);
  const [open, setOpen] = useState(false);
  const dialog = useRef<PlugIntegrationDialog>(null);

  const onActivated = (e: CustomEvent<InstanceEventDetail>) => setActive((ids) => [...ids, e.detail.instance.id]);

  return (
    <>
      <plug-marketplace
        api={api}
        getToken={getToken}
        translations={translations}
        detail-mode="inline"
        theme="dark"
        onplug-instance-activated={onActivated}
        onplug-instance-deleted={(e) => setActive((ids) => ids.filter((id) => id !== e.detail.instanceId))}
        onplug-integration-open={(e) => console.log(e.detail.integration.key)}
        onplug-error={(e) => console.warn(e.detail.action, e.detail.problem?.status)}
        onplug-connect={(e) => console.log(e.detail.connection, e.detail.status)}
        onplug-connect-error={(e) => console.log(e.detail.reason)}
        onplug-dialog-close={(e) => console.log(e.detail.integrationKey)}
      />
      <plug-integration-dialog
        ref={dialog}
        api={api}
        getToken={getToken}
        integration-key="crm-sync"
        open={open}
        mode="modal"
        onplug-dialog-close={(e) => {
          console.log(e.detail.integrationKey);
          setOpen(false);
        }}
      />
      <plug-config-form
        schema={{ type: 'object', properties: { interval: { type: 'number' } } }}
        errors={[{ path: 'interval', message: 'Too small' }]}
        disabled={active.length === 0}
        onchange={(e) => console.log(e.detail === null)}
      />
      <plug-provider api={api} getToken={getToken}>
        <plug-instance-status instance-id="ins_1" />
        <plug-execution-log instance-id="ins_1" status="failed" poll-interval={10_000} />
        <plug-connect-button
          instance-id="ins_1"
          connection="crm"
          onplug-connect={(e) => console.log(e.detail.status)}
          onplug-connect-error={(e) => console.log(e.detail.reason)}
        />
      </plug-provider>
    </>
  );
}
