/**
 * udp:// and rtp:// sources are pushed to the worker's own address: locally that is a fixed
 * address, on AWS a task's address changes with every move, so they are refused there (a clear
 * 400 at registration, nothing stored) unless a deployment says it has a fixed ingest.
 */
import { describe, expect, it } from 'vitest';
import { securityConfig } from '../../shared/config.js';
import { checkSource } from '../../shared/urlPolicy.js';

const publicResolver = async () => ['203.0.113.10'];

describe('pushed sources (udp, rtp)', () => {
  it('are refused outside local mode, with what to do instead', async () => {
    const aws = securityConfig({});
    for (const url of ['udp://203.0.113.10:5000', 'rtp://203.0.113.10:5004'])
      await expect(checkSource(url, aws, publicResolver)).rejects.toMatchObject({
        code: 'url_scheme',
        message: expect.stringMatching(/pushed to a fixed address.*STREAMQC_ALLOW_PUSH_SOURCES=1/),
      });
    // Pulled protocols are unaffected.
    await expect(checkSource('srt://203.0.113.10:9000', aws, publicResolver)).resolves.toMatchObject({
      kind: 'url',
    });
  });

  it('are accepted in local mode, and where a deployment declares a fixed ingest', async () => {
    const local = securityConfig({ STREAMQC_LOCAL: '1' });
    const declared = securityConfig({ STREAMQC_ALLOW_PUSH_SOURCES: '1' });
    await expect(checkSource('udp://127.0.0.1:5000', local)).resolves.toMatchObject({ scheme: 'udp:' });
    await expect(checkSource('udp://203.0.113.10:5000', declared, publicResolver)).resolves.toMatchObject({
      scheme: 'udp:',
    });
    // And a local stack may refuse them too.
    const strict = securityConfig({ STREAMQC_LOCAL: '1', STREAMQC_ALLOW_PUSH_SOURCES: '0' });
    await expect(checkSource('udp://127.0.0.1:5000', strict)).rejects.toMatchObject({ code: 'url_scheme' });
  });
});
