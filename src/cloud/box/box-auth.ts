// Single-flight token handling around the SDK's CCG/JWT auth. Why: the SDK's auth asks for a
// token whenever its storage is empty and on every 401, with no coordination, so ten concurrent
// calls at start-up make ten token requests, and ten calls failing on one expired token make ten
// refreshes. Here every caller shares one pending token request, a token is renewed shortly
// before it expires, and a 401 renews only if no newer token came since the request was sent.
import type { Authentication, FetchOptions, FetchResponse, Interceptor, NetworkSession } from 'box-node-sdk/networking';
import type { AccessToken } from 'box-node-sdk/schemas';

/** Renew this long before the announced expiry, so a token does not die in flight. */
const EXPIRY_MARGIN_MS = 60_000;

export class SingleFlightAuth implements Authentication {
  private token: { readonly value: AccessToken; readonly expiresAt: number } | undefined;
  private pending: Promise<AccessToken> | undefined;
  /** Bumped each time a new token is stored. */
  private generation = 0;
  /** The generation current when each request (its FetchOptions) went out. */
  private readonly sentAt = new WeakMap<FetchOptions, number>();

  constructor(private readonly inner: Authentication, private readonly now: () => number = Date.now) {}

  /** Stamps each request with the token generation; install in the NetworkSession. */
  readonly interceptor: Interceptor = {
    beforeRequest: (options: FetchOptions): FetchOptions => {
      this.sentAt.set(options, this.generation);
      return options;
    },
    afterRequest: (response: FetchResponse): FetchResponse => response,
  };

  async retrieveToken(networkSession?: NetworkSession): Promise<AccessToken> {
    const token = this.token;
    if (token && this.now() < token.expiresAt) return token.value;
    return this.refresh(networkSession);
  }

  refreshToken(networkSession?: NetworkSession): Promise<AccessToken> {
    return this.refresh(networkSession);
  }

  async retrieveAuthorizationHeader(networkSession?: NetworkSession): Promise<string> {
    const token = await this.retrieveToken(networkSession);
    if (!token.accessToken) throw new Error('box: the token answer held no access token');
    return `Bearer ${token.accessToken}`;
  }

  async revokeToken(networkSession?: NetworkSession): Promise<undefined> {
    this.token = undefined;
    return this.inner.revokeToken(networkSession);
  }

  downscopeToken(scopes: readonly string[], resource?: string, sharedLink?: string, networkSession?: NetworkSession): Promise<AccessToken> {
    return this.inner.downscopeToken(scopes, resource, sharedLink, networkSession);
  }

  /** A request answered 401: renew unless a newer token arrived since it was sent. */
  async unauthorized(options: FetchOptions): Promise<void> {
    const sent = this.sentAt.get(options);
    if (sent !== undefined && sent < this.generation) return;
    this.token = undefined;
    await this.refresh(options.networkSession);
  }

  private refresh(networkSession?: NetworkSession): Promise<AccessToken> {
    this.pending ??= this.inner
      .refreshToken(networkSession)
      .then((value) => {
        const lifetimeMs = (value.expiresIn ?? 3600) * 1000;
        this.token = { value, expiresAt: this.now() + Math.max(lifetimeMs / 2, lifetimeMs - EXPIRY_MARGIN_MS) };
        this.generation++;
        return value;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }
}
