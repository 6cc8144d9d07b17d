/**
 * How `--server` values become one gRPC channel target: several host:port entries (repeated or comma-separated)
 * become an `ipv4:`/`ipv6:` list after one lookup each, URIs pass through, and everything else is a usage error.
 */
import { describe, expect, it } from 'vitest';
import { channelTarget } from '../../src/cli/client.ts';
import { serverAddresses } from '../../src/cli/commands/server-option.ts';
import { UsageError } from '../../src/cli/io.ts';

describe('serverAddresses', () => {
  it('reads repeated flags and comma lists, else SEALD_SERVER, else the default', () => {
    expect(serverAddresses(['10.0.0.1:50051,10.0.0.2:50051', 'seald-2:7000'], {})).toEqual([
      '10.0.0.1:50051',
      '10.0.0.2:50051',
      'seald-2:7000',
    ]);
    expect(serverAddresses(undefined, { SEALD_SERVER: 'a:1,b:2' })).toEqual(['a:1', 'b:2']);
    expect(serverAddresses(undefined, { SEALD_SERVER: '' })).toEqual(['127.0.0.1:50051']);
  });

  it('passes gRPC target URIs through whole', () => {
    expect(serverAddresses(['dns:///seald-headless.seald.svc:50051'], {})).toEqual(['dns:///seald-headless.seald.svc:50051']);
    expect(serverAddresses(['ipv4:10.0.0.1:50051,10.0.0.2:50051'], {})).toEqual(['ipv4:10.0.0.1:50051,10.0.0.2:50051']);
  });

  it.each([
    [['nohost'], /--server: expected host:port/],
    [['a:1,'], /--server: expected host:port/],
    [['dns:///no-port'], /expected host:port, dns:\/\/\/name:port/],
    [['dns:///x:1', 'a:1'], /cannot be combined/],
  ])('refuses %j', (flags, message) => {
    expect(() => serverAddresses(flags, {})).toThrow(UsageError);
    expect(() => serverAddresses(flags, {})).toThrow(message);
  });
});

describe('channelTarget', () => {
  it('keeps a single address or URI as it is', async () => {
    expect(await channelTarget(['seald:50051'])).toBe('seald:50051');
    expect(await channelTarget(['dns:///seald:50051'])).toBe('dns:///seald:50051');
  });

  it('turns several addresses into one static IP list, looking names up', async () => {
    expect(await channelTarget(['127.0.0.1:1', 'localhost:2'])).toBe('ipv4:127.0.0.1:1,127.0.0.1:2');
    expect(await channelTarget(['[::1]:1', '[::1]:2'])).toBe('ipv6:[::1]:1,[::1]:2');
  });

  it('refuses a list that mixes address families, and a name that does not resolve', async () => {
    await expect(channelTarget(['127.0.0.1:1', '[::1]:2'])).rejects.toThrow(/do not all have an IPv4/);
    await expect(channelTarget(['a:1', 'no-such-host.invalid:2'])).rejects.toThrow(/ENOTFOUND|EAI_AGAIN/);
  });
});
