/** Every IPv6 spelling of a refused IPv4 address is refused, by the API's check and at connect time. */
import { describe, expect, it } from 'vitest';
import type { SecurityConfig } from '../../shared/config.js';
import { checkSource, embeddedIpv4, isForbiddenAddress } from '../../shared/urlPolicy.js';

const remote: SecurityConfig = { localMode: false, allowFiles: false, allowedNetworks: [] };

describe('IPv6 forms of the cloud metadata address 169.254.169.254', () => {
  it.each([
    ['IPv4-mapped, dotted', '::ffff:169.254.169.254'],
    ['IPv4-mapped, hex', '::ffff:a9fe:a9fe'],
    ['IPv4-compatible', '::169.254.169.254'],
    ['IPv4-translated', '::ffff:0:a9fe:a9fe'],
    ['6to4', '2002:a9fe:a9fe::'],
    ['6to4 with an interface id', '2002:a9fe:a9fe:1::42'],
    ['Teredo', '2001:0:4136:e378:8000:63bf:5601:5601'],
    ['NAT64 well-known prefix', '64:ff9b::a9fe:a9fe'],
    ['NAT64 local-use prefix', '64:ff9b:1::a9fe:a9fe'],
    ['fully written out', '0000:0000:0000:0000:0000:ffff:a9fe:a9fe'],
  ])('refuses %s (%s) in the API and at connect time', async (_form, address) => {
    const check = checkSource(`http://[${address}]/live.m3u8`, remote);

    await expect(check).rejects.toMatchObject({ code: 'url_forbidden' });
    expect(isForbiddenAddress(address, remote)).toBe(true);
  });
});

describe('IPv6 forms of private and loopback IPv4', () => {
  it.each([
    ['6to4 of 10.0.0.1', '2002:a00:1::'],
    ['6to4 of 192.168.1.1', '2002:c0a8:101::'],
    ['mapped 127.0.0.1', '::ffff:7f00:1'],
    ['translated 172.16.0.1', '::ffff:0:ac10:1'],
  ])('refuses %s', (_form, address) => {
    expect(isForbiddenAddress(address, remote)).toBe(true);
  });

  it('allows a 6to4 address of a public IPv4 host, and ordinary global IPv6', () => {
    expect(embeddedIpv4('2002:5db8:d822::1')).toBe('93.184.216.34');
    expect(isForbiddenAddress('2002:5db8:d822::1', remote)).toBe(false);
    expect(isForbiddenAddress('2606:2800:220:1:248:1893:25c8:1946', remote)).toBe(false);
  });

  it('lets an allowed network through in any of its spellings', () => {
    const allowed = { ...remote, allowedNetworks: ['10.0.0.0/8'] };

    expect(isForbiddenAddress('2002:a00:1::', allowed)).toBe(false);
    expect(isForbiddenAddress('::ffff:10.1.2.3', allowed)).toBe(false);
  });
});
