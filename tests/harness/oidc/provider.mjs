// A real OpenID Connect provider (panva's oidc-provider) for the test suite, configured
// the way a Swedish e-ID broker is under the Swedish OIDC profile (oidc-sweden):
//
//   * clients authenticate at the token endpoint with private_key_jwt only;
//   * PKCE (S256) is required for every client;
//   * the person comes in https://id.oidc.se/claim/personalIdentityNumber, never as
//     `sub`: subjects are pairwise (a hash per client), as a broker does it;
//   * ID tokens live 5 minutes and carry acr (the assurance level) and auth_time.
//   * the profile also lets a provider release the person's claims (personnummer and
//     names) through the userinfo endpoint only: a client registered with the extra
//     metadata `identity_claims_in: "userinfo"` gets an ID token without them and must
//     ask userinfo with its access token; with `userinfo_signed_response_alg` the
//     userinfo answer is a JWT signed by the provider.
//
// Started by tests/harness/oidc.py: `node provider.mjs CONFIG.json`, where the JSON file
// holds {issuer, port, clients: [...]}. Listens on 127.0.0.1 only. Prints one line
// "ready <issuer>" on stdout when it accepts connections.
//
// The login and consent pages are a scripted stand-in for BankID/Freja at the broker
// (oidc-provider leaves those pages to the deployer): a form that takes a personnummer,
// given and family name, and optionally the acr to report; tests post it over HTTP.
//
// Test-only endpoints beside the provider's own:
//   GET  /__test__/events   what the provider saw (grant.success with the client
//                           authentication method used, grant.error, ...), as JSON
//   POST /__test__/tamper   JSON {aud, nonce, lifetime, iss}: the next ID token the
//                           token endpoint returns is re-signed, with the provider's own
//                           key, with these claims changed (a misbehaving or mixed-up
//                           broker); the one after that is normal again. With
//                           {userinfo_sub}: the next userinfo answer names that subject
//                           instead. {} resets both.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import { SignJWT, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const PNR_CLAIM = 'https://id.oidc.se/claim/personalIdentityNumber';
const PNR_SCOPE = 'https://id.oidc.se/scope/naturalPersonNumber';
const LOA3 = 'http://id.elegnamnden.se/loa/1.0/loa3';
const ACR_VALUES = [
  'http://id.elegnamnden.se/loa/1.0/loa2',
  LOA3,
  'http://id.elegnamnden.se/loa/1.0/loa4',
];

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { issuer, port } = config;

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: 'broker-1', alg: 'RS256', use: 'sig' };

const events = [];
const accounts = new Map(); // personnummer -> { given_name, family_name }
let tamper = null;
let tamperUserinfo = null;
const IDENTITY_CLAIMS = [PNR_CLAIM, 'given_name', 'family_name', 'name'];
const pairwiseSalt = randomBytes(16).toString('hex');

const provider = new Provider(issuer, {
  clients: config.clients.map((client) => ({
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'RS256',
    id_token_signed_response_alg: 'RS256',
    subject_type: 'pairwise',
    require_auth_time: true,
    ...client,
  })),
  clientAuthMethods: ['private_key_jwt', 'client_secret_post', 'client_secret_basic'],
  extraClientMetadata: {
    properties: ['identity_claims_in'],
    validator(ctx, key, value) {
      if (key === 'identity_claims_in' && value !== undefined && !['id_token', 'userinfo'].includes(value)) {
        throw new Error('identity_claims_in is "id_token" or "userinfo"');
      }
    },
  },
  jwks: { keys: [signingJwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  acrValues: ACR_VALUES,
  subjectTypes: ['pairwise'],
  pairwiseIdentifier: async (ctx, accountId, client) => createHash('sha256')
    .update(`${client.sectorIdentifier}|${accountId}|${pairwiseSalt}`)
    .digest('hex'),
  scopes: ['openid', 'profile', PNR_SCOPE],
  claims: {
    openid: ['sub'],
    acr: null,
    auth_time: null,
    profile: ['name', 'given_name', 'family_name'],
    [PNR_SCOPE]: [PNR_CLAIM],
  },
  // The Swedish profile delivers the identity claims in the ID token.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false }, jwtUserinfo: { enabled: true } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: {
    IdToken: 300, AccessToken: 300, AuthorizationCode: 60, Interaction: 600, Session: 600, Grant: 600,
  },
  async findAccount(ctx, id) {
    const person = accounts.get(id) ?? { given_name: 'Test', family_name: 'Testsson' };
    return {
      accountId: id,
      async claims(use) {
        const claims = {
          sub: id,
          [PNR_CLAIM]: id,
          given_name: person.given_name,
          family_name: person.family_name,
          name: `${person.given_name} ${person.family_name}`,
        };
        // A client that gets the person from userinfo only: nothing of them in the ID token.
        if (use === 'id_token' && ctx?.oidc?.client?.identity_claims_in === 'userinfo') {
          for (const name of IDENTITY_CLAIMS) delete claims[name];
        }
        return claims;
      },
    };
  },
});
provider.proxy = false;

function record(event, ctx, extra = {}) {
  events.push({
    event,
    at: new Date().toISOString(),
    client_id: ctx?.oidc?.client?.clientId ?? null,
    client_auth_method: ctx?.oidc?.client?.clientAuthMethod ?? null,
    ...extra,
  });
}
provider.on('grant.success', (ctx) => record('grant.success', ctx, {
  grant_type: ctx.oidc.params?.grant_type ?? null,
  // What the client actually sent, not only what it is registered for.
  client_assertion_type: ctx.oidc.params?.client_assertion_type ?? null,
}));
provider.on('grant.error', (ctx, err) => record('grant.error', ctx, { error: err.error, error_description: err.error_description }));
provider.on('authorization.error', (ctx, err) => record('authorization.error', ctx, { error: err.error, error_description: err.error_description }));
provider.on('server_error', (ctx, err) => record('server_error', ctx, { error: String(err) }));

// Which claims each ID token from the token endpoint carried (names only, never values).
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/token' || ctx.status !== 200 || !ctx.body?.id_token) return;
  record('id_token.issued', ctx, { claims: Object.keys(decodeJwt(ctx.body.id_token)).sort() });
});

// What the userinfo endpoint was asked and answered (the relying party's calls to it).
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/me') return;
  record('userinfo', ctx, {
    method: ctx.method,
    status: ctx.status,
    authorization_scheme: (ctx.get('authorization') || '').split(' ')[0] || null,
    content_type: ctx.response.type || null,
  });
});

// A mixed-up broker, on request: the next userinfo answer is about another subject
// (re-signed with the provider's own key when it is a JWT).
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/me' || ctx.status !== 200 || !tamperUserinfo) return;
  const change = tamperUserinfo;
  tamperUserinfo = null;
  if (typeof ctx.body === 'string') {
    const claims = { ...decodeJwt(ctx.body), sub: change.sub };
    ctx.body = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: signingJwk.kid }).sign(privateKey);
    ctx.type = 'application/jwt; charset=utf-8';
  } else {
    ctx.body = { ...ctx.body, sub: change.sub };
  }
  record('userinfo.tampered', ctx, { changed: ['sub'] });
});

// A misbehaving broker, on request: re-sign the next ID token with changed claims.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/token' || ctx.status !== 200 || !tamper || !ctx.body?.id_token) return;
  const change = tamper;
  tamper = null;
  const claims = decodeJwt(ctx.body.id_token);
  if (change.aud !== undefined) claims.aud = change.aud;
  if (change.nonce !== undefined) claims.nonce = change.nonce;
  if (change.iss !== undefined) claims.iss = change.iss;
  if (change.lifetime !== undefined) claims.exp = claims.iat + change.lifetime;
  ctx.body = {
    ...ctx.body,
    id_token: await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: signingJwk.kid }).sign(privateKey),
  };
  record('id_token.tampered', ctx, { changed: Object.keys(change) });
});

const escape = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html><html lang="sv"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interactions(req, res, url) {
  const match = url.pathname.match(/^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/);
  if (!match) return false;
  const [, uid, step] = match;
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  const { prompt, params, session } = details;

  if (req.method === 'GET' && !step) {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    if (prompt.name === 'login') {
      res.end(page('Logga in med e-legitimation (testleverantör)', `
        <form method="post" action="/interaction/${uid}/login">
          <label for="personnummer">Personnummer</label><input id="personnummer" name="personnummer">
          <label for="given_name">Förnamn</label><input id="given_name" name="given_name" value="Test">
          <label for="family_name">Efternamn</label><input id="family_name" name="family_name" value="Testsson">
          <label for="acr">Tillitsnivå</label><input id="acr" name="acr" value="">
          <button type="submit">Logga in</button>
        </form>`));
    } else {
      res.end(page('Godkänn', `
        <p>${escape(params.client_id)} vill veta vem du är (${escape(params.scope)}).</p>
        <form method="post" action="/interaction/${uid}/confirm"><button type="submit">Godkänn</button></form>
        <form method="post" action="/interaction/${uid}/abort"><button type="submit">Avbryt</button></form>`));
    }
    return true;
  }
  if (req.method !== 'POST') return false;

  if (step === 'login') {
    const form = await readForm(req);
    const personnummer = (form.get('personnummer') ?? '').trim();
    if (!personnummer) {
      res.statusCode = 400;
      res.end('personnummer saknas');
      return true;
    }
    accounts.set(personnummer, {
      given_name: form.get('given_name') || 'Test',
      family_name: form.get('family_name') || 'Testsson',
    });
    const requested = String(params.acr_values ?? '').split(' ').filter((v) => ACR_VALUES.includes(v));
    const acr = form.get('acr') || requested[0] || LOA3;
    await provider.interactionFinished(req, res, {
      login: { accountId: personnummer, acr, amr: ['bankid'] },
    }, { mergeWithLastSubmission: false });
    return true;
  }
  if (step === 'confirm') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    return true;
  }
  if (step === 'abort') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'Användaren avbröt',
    }, { mergeWithLastSubmission: false });
    return true;
  }
  return false;
}

async function testEndpoints(req, res, url) {
  if (url.pathname === '/__test__/events' && req.method === 'GET') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(events));
    return true;
  }
  if (url.pathname === '/__test__/tamper' && req.method === 'POST') {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const { userinfo_sub: userinfoSub, ...changes } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    tamper = Object.keys(changes).length ? changes : null; // {} resets
    tamperUserinfo = userinfoSub !== undefined ? { sub: userinfoSub } : null;
    res.statusCode = 204;
    res.end();
    return true;
  }
  return false;
}

const handle = provider.callback();
const server = createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  try {
    if (await testEndpoints(req, res, url)) return;
    if (url.pathname.startsWith('/interaction/') && await interactions(req, res, url)) return;
  } catch (err) {
    res.statusCode = 400;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(`interaction failed: ${err.message ?? err}`);
    return;
  }
  handle(req, res);
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
