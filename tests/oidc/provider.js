// A real OpenID provider for the end-to-end tests, built on oidc-provider (panva).
//
//   node tests/oidc/provider.js CONFIG.json
//
// CONFIG.json: {"clients": [...], "accounts": [{"login", "password", "sub", "email", "name"}]}.
// `clients` go to oidc-provider as they are (client metadata of OpenID Connect Dynamic Client
// Registration: client_secret_basic with a secret, or private_key_jwt with a public `jwks`).
//
// It listens on 127.0.0.1 on a port the system picks and prints exactly one line on stdout when
// it is ready, `listening http://127.0.0.1:<port>` (the issuer); SIGTERM or SIGINT stops it.
// Code flow only, PKCE (S256) required of every client, scopes openid, email and profile, the
// account's email in the id_token, RS256 and ES256 signing keys made for each run (RS256 is the
// default; a client picks ES256 with `id_token_signed_response_alg`), RP-initiated logout.
//
// The pages are Dutch and plain HTML that passes axe-core's WCAG 2.x A/AA rules:
//   login   #username, #password, #login-submit; a failed attempt shows #login-error (role=alert)
//   logout  #logout-confirm (sign out), #logout-cancel (stay signed in)
//   errors  #oidc-error
// There is no consent page: signing in grants the requested scopes.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';

const configPath = process.argv[2];
if (!configPath) {
  console.error('usage: node provider.js CONFIG.json');
  process.exit(2);
}
const config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
const accounts = config.accounts ?? [];

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A complete Dutch page around `body`. */
function page(title, body) {
  return `<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>
body { font-family: sans-serif; line-height: 1.5; margin: 2rem; color: #1a1a1a; background: #fff; }
label, input, button { display: block; font-size: 1rem; }
input { margin: 0.25rem 0 1rem; padding: 0.4rem; border: 1px solid #555; }
button { margin: 0.5rem 0; padding: 0.5rem 1rem; }
#login-error { color: #a00000; font-weight: bold; }
</style>
</head>
<body>
<main>
<h1>${escape(title)}</h1>
${body}
</main>
</body>
</html>`;
}

/** The sign-in form of interaction `uid`, with an error message after a failed attempt. */
function loginPage(uid, client, error, username = '') {
  const described = error ? ' aria-describedby="login-error" aria-invalid="true"' : '';
  return page('Inloggen', `${error ? `<p id="login-error" role="alert">${escape(error)}</p>` : ''}
<p>Log in om verder te gaan naar ${escape(client)}.</p>
<form id="login-form" method="post" action="/interaction/${escape(uid)}/login" autocomplete="off">
<label for="username">Gebruikersnaam</label>
<input id="username" name="username" type="text" value="${escape(username)}" required autofocus${described}>
<label for="password">Wachtwoord</label>
<input id="password" name="password" type="password" required${described}>
<button id="login-submit" type="submit">Inloggen</button>
</form>`);
}

/** A signing key made for this run, as a private JWK. */
function signingKey(type, options, alg) {
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  const kid = `${alg.toLowerCase()}-${crypto.randomUUID()}`;
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid };
}

/** The urlencoded form of a POST request. */
function readForm(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      data += chunk;
      if (data.length > 100_000) req.destroy(new Error('form too large'));
    });
    req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(data))));
    req.on('error', reject);
  });
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

/** An error page whose `#oidc-error` says what went wrong. */
function failure(res, status, message) {
  send(res, status, page('Er ging iets mis', `<pre id="oidc-error">${escape(message)}</pre>`));
}

// Listen first, so the issuer carries the port the system picked.
let route = (_req, res) => send(res, 503, page('Niet beschikbaar', '<p>De server start nog.</p>'));
const server = http.createServer((req, res) => route(req, res));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: {
    keys: [
      signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
      signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
    ],
  },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  responseTypes: ['code'],
  scopes: ['openid', 'email', 'profile'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // without this, a code flow's id_token carries only `sub` and the email goes to userinfo only
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = page('Afmelden', `<p>Wilt u zich afmelden?</p>
${form}
<button id="logout-confirm" type="submit" form="op.logoutForm" name="logout" value="yes">Ja, afmelden</button>
<button id="logout-cancel" type="submit" form="op.logoutForm">Nee, aangemeld blijven</button>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Afgemeld', '<p id="logout-done">U bent afgemeld.</p>');
      },
    },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, sub) {
    const account = accounts.find((a) => a.sub === sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, email: account.email, email_verified: true, name: account.name };
      },
    };
  },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Er ging iets mis', `<pre id="oidc-error">${escape(JSON.stringify(out))}</pre>`);
  },
});
provider.on('server_error', (_ctx, err) => console.error('server_error', err));

/** Grants the requested scopes and claims to the signed-in account and ends the interaction. */
async function finish(req, res, details, accountId) {
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const missingClaims = details.prompt.details.missingOIDCClaims;
  if (missingClaims) grant.addOIDCClaims(missingClaims);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, {
    mergeWithLastSubmission: false,
  });
}

/** GET /interaction/:uid shows the form; POST /interaction/:uid/login checks the password. */
async function interaction(req, res) {
  const [, uid, action] = req.url.match(/^\/interaction\/([^/?]+)(\/login)?/) ?? [];
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return failure(res, 400, 'Onbekende aanvraag.');
    const client = details.params.client_id;
    // signed in already (a new scope asked for): grant it without asking again
    if (details.prompt.name === 'consent' && details.session?.accountId) {
      return await finish(req, res, details, details.session.accountId);
    }
    if (req.method === 'GET' && !action) return send(res, 200, loginPage(uid, client));
    if (req.method !== 'POST' || !action) return failure(res, 405, 'Niet toegestaan.');
    const form = await readForm(req);
    const account = accounts.find((a) => a.login === form.username);
    if (!account || account.password !== form.password) {
      const error = 'Onbekende gebruikersnaam of onjuist wachtwoord.';
      return send(res, 200, loginPage(uid, client, error, form.username ?? ''));
    }
    return await finish(req, res, details, account.sub);
  } catch (err) {
    return failure(res, 400, err.message);
  }
}

const callback = provider.callback();
route = (req, res) => (req.url.startsWith('/interaction/') ? interaction(req, res) : callback(req, res));
process.stdout.write(`listening ${issuer}\n`);

const stop = () => {
  server.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
