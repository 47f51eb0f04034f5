/**
 * `npm run alarms -- ack ... --target aws`: the operator's connection as AWS IoT Core takes it (MQTT
 * over TLS 1.2+, the operator's X.509 certificate, the server checked against the CA in --certs, no
 * username or password). AWS cannot run here, so a TLS listener on 127.0.0.1 with an aedes broker
 * behind it plays the endpoint: it admits a client whose certificate names its client id (the
 * operator policy's `iot:Connect` on the thing name) and answers the command on its accepted topic
 * as the alarm-commands function would. Certificates are made with openssl for each run.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandReplyTopic, commandTopic } from '../../infra/pipeline.js';

const TSX_CLI = join(process.cwd(), 'node_modules', 'tsx', 'dist', 'cli.mjs');
const OPERATOR = 'night-shift';

/** A CA, a server certificate for 127.0.0.1, and a client certificate per name, signed by the CA. */
function makeCertificates(dir: string, clients: readonly string[]): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test root', '-keyout', 'ca.key', '-out', 'AmazonRootCA1.pem');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'AmazonRootCA1.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'server.ext', '-out', 'server.pem');
  for (const name of clients) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.private.key`, '-out', `${name}.csr`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'AmazonRootCA1.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', `${name}.cert.pem`);
  }
}

describe('npm run alarms -- <command> --target aws', { timeout: 90_000 }, () => {
  let certs: string;
  let server: tls.Server;
  let aedes: Aedes;
  let endpoint: string;
  const received: { clientId: string; topic: string; payload: Record<string, unknown> }[] = [];

  const run = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [TSX_CLI, 'infra/local/cli/alarms.ts', ...args],
        // The endpoint is an IP address here, which Node warns about as a TLS server name; AWS's is a host name.
        { cwd: process.cwd(), timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '--no-deprecation' } },
        (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    certs = mkdtempSync(join(tmpdir(), 'ft-alarms-tls-'));
    makeCertificates(certs, [OPERATOR]);
    aedes = new Aedes({
      authenticate(client, username, _password, done) {
        // IoT Core: the certificate authenticates; the policy lets it connect as its own thing only.
        const certificate = (client.conn as tls.TLSSocket).getPeerCertificate();
        done(null, username === undefined && certificate.subject?.CN === client.id);
      },
      authorizePublish(_client, packet, done) {
        done(packet.topic.startsWith('cmd/fleet/alarms/') && packet.topic.split('/').length === 4 ? null : new Error('not allowed'));
      },
    });
    await aedes.listen();
    aedes.on('publish', (packet, client) => {
      if (!client) return;
      const payload = JSON.parse(packet.payload.toString()) as Record<string, unknown>;
      received.push({ clientId: client.id, topic: packet.topic, payload });
      const deviceId = packet.topic.split('/')[3] as string;
      const reply = { clientToken: payload.clientToken, deviceId, ruleId: payload.ruleId, action: payload.action, state: 'ACKNOWLEDGED' };
      aedes.publish({ cmd: 'publish', topic: commandReplyTopic(deviceId, 'accepted'), payload: Buffer.from(JSON.stringify(reply)), qos: 1, dup: false, retain: false }, () => undefined);
    });
    server = tls.createServer(
      {
        key: readFileSync(join(certs, 'server.key')),
        cert: readFileSync(join(certs, 'server.pem')),
        ca: readFileSync(join(certs, 'AmazonRootCA1.pem')),
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
      },
      (socket) => aedes.handle(socket),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `mqtts://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await new Promise<void>((resolve) => aedes?.close(() => resolve()));
    rmSync(certs, { recursive: true, force: true });
  });

  it('connects with the operator certificate, publishes the command on the device\'s command topic, and prints the reply', async () => {
    const result = await run('ack', 'sensor-0001/overheat', '--note', 'on site', '--target', 'aws', '--endpoint', endpoint, '--certs', certs, '--operator', OPERATOR);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('accepted  acknowledge sensor-0001/overheat  state ACKNOWLEDGED\n');
    expect(received).toEqual([
      { clientId: OPERATOR, topic: commandTopic('sensor-0001'), payload: { action: 'acknowledge', ruleId: 'overheat', note: 'on site', clientToken: expect.any(String) } },
    ]);
  });

  it('fails with one line when the certificate files are not in --certs', async () => {
    const result = await run('reset', 'sensor-0001/overheat', '--target', 'aws', '--endpoint', endpoint, '--certs', certs, '--operator', 'someone-else');

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: --certs: cannot read .*someone-else\.cert\.pem/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses a plain mqtt:// endpoint for AWS, which takes TLS only', async () => {
    const result = await run('reset', 'sensor-0001/overheat', '--target', 'aws', '--endpoint', 'mqtt://127.0.0.1:1883', '--certs', certs, '--operator', OPERATOR);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: --endpoint: AWS IoT Core accepts MQTT over TLS only/);
  });
});
