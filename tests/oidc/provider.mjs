// A real OpenID Connect provider (panva's certified oidc-provider) for the single sign-on
// tests, run on loopback. Usage: node provider.mjs PORT REDIRECT_URI ACCOUNTS_JSON
// ACCOUNTS_JSON maps a login name to its claims, e.g. {"nav": {"email": "...", "mfa": true}}.
// Its login page asks for the login name and, as a real identity provider would, whether a
// second factor was used: the ID token's "amr" then says ["pwd"] or ["pwd", "mfa"].
import Provider from 'oidc-provider';

const [port, redirectUri, accountsJson] = process.argv.slice(2);
const accounts = JSON.parse(accountsJson);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'onestory',
    client_secret: 'onestory-test-client-secret',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  cookies: { keys: ['test-only-cookie-key-one', 'test-only-cookie-key-two'] },
  claims: { amr: null, openid: ['sub', 'amr'], email: ['email', 'email_verified'], profile: ['name'] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: account.email, email_verified: true, name: account.name || id };
      },
    };
  },
  // First-party client: no consent screen; the grant covers what was asked for.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});

function body(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (chunk) => { data += chunk; });
    req.on('end', () => resolve(new URLSearchParams(data)));
  });
}

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'GET') {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><html lang="en"><head><title>Test identity provider</title></head>
<body><main><h1>Test identity provider: sign in</h1><p>${details.prompt.name}</p>
<form method="post"><label for="login">Login</label><input id="login" name="login">
<label for="mfa"><input id="mfa" name="mfa" type="checkbox" value="yes"> I used my second factor</label>
<button type="submit">Sign in</button></form></main></body></html>`;
    return undefined;
  }
  const form = await body(ctx.req);
  const login = form.get('login');
  if (!accounts[login]) {
    ctx.status = 403;
    ctx.body = 'unknown login';
    return undefined;
  }
  const amr = form.get('mfa') === 'yes' ? ['pwd', 'mfa'] : ['pwd'];
  ctx.respond = false;
  await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: login, amr } },
    { mergeWithLastSubmission: false });
  return undefined;
});

provider.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
