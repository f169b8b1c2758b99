// A real OpenID Connect provider (the maintained `oidc-provider` package) for batchforge's
// single sign-on tests.  Started by tests/sso/conftest.py on 127.0.0.1; configured from the
// environment:
//   OIDC_PORT    the port to listen on (the issuer is http://127.0.0.1:PORT)
//   OIDC_CLIENT  JSON: {client_id, client_secret, redirect_uris}
//   OIDC_USERS   JSON: {login: {email, email_verified, name, groups}}
// Its development sign-in form takes any password for a login listed in OIDC_USERS.
// Prints "READY <issuer>" once it listens.
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const client = JSON.parse(process.env.OIDC_CLIENT);
const users = JSON.parse(process.env.OIDC_USERS);

const provider = new Provider(issuer, {
  clients: [
    {
      ...client,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  // Every client must use PKCE (the default asks it of public clients only).
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  async findAccount(ctx, id) {
    const user = users[id];
    if (!user) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...user }; } };
  },
  cookies: { keys: ['batchforge-test-provider-cookies'] },
  features: { devInteractions: { enabled: true } },
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`READY ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
