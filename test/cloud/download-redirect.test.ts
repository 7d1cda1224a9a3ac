// The redirect policy of downloads (src/cloud/download-redirect.ts), on its own: the Box fake is
// plain http, so the "https only unless the service itself is http" rule is checked here.
import { describe, expect, it } from 'vitest';
import { httpAllowedFor, redirectTarget } from '../../src/cloud/download-redirect.js';
import { RemoteError } from '../../src/cloud/remote-folder.js';

const refused = (f: () => unknown): RemoteError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RemoteError);
    return e as RemoteError;
  }
  throw new Error('expected a RemoteError');
};

describe('download redirect policy', () => {
  it('allows plaintext only when the configured service base is http', () => {
    expect(httpAllowedFor('https://api.box.com')).toBe(false);
    expect(httpAllowedFor('https://graph.microsoft.com')).toBe(false);
    expect(httpAllowedFor('http://127.0.0.1:1234')).toBe(true);
    expect(httpAllowedFor('not a url')).toBe(false);
  });

  it('resolves https targets (relative ones against the hop they came from)', () => {
    expect(redirectTarget('https://dl.boxcloud.com/d/1?sig=x', 'https://api.box.com/2.0/files/1/content', false, 'box download').href).toBe('https://dl.boxcloud.com/d/1?sig=x');
    expect(redirectTarget('/d/2', 'https://dl.boxcloud.com/d/1', false, 'box download').href).toBe('https://dl.boxcloud.com/d/2');
    expect(redirectTarget('http://127.0.0.1:9/d/1', 'http://127.0.0.1:8', true, 'box download').protocol).toBe('http:');
  });

  it('refuses http from an https service, and file:, data:, ftp: always; the message never holds the URL', () => {
    const targets = ['http://dl.example.com/DOE^JOHN.dcm?sig=SECRET', 'file:///etc/DOE^JOHN', 'data:text/plain,DOE^JOHN', 'ftp://example.com/DOE^JOHN', 'javascript:alert(1)'];
    for (const t of targets) {
      const e = refused(() => redirectTarget(t, 'https://api.box.com', false, 'box download'));
      expect(e.message).toBe('box download: redirect to a URL that is not https refused');
      expect(e.retryable).toBe(false);
    }
    for (const t of targets.slice(1)) expect(refused(() => redirectTarget(t, 'http://127.0.0.1:8', true, 'x')).retryable).toBe(false);
    expect(refused(() => redirectTarget(undefined, 'https://api.box.com', false, 'x')).message).toBe('x: redirect without a location');
    expect(refused(() => redirectTarget('http://[bad', 'https://api.box.com', false, 'x')).message).toBe('x: redirect to an unreadable location');
  });
});
