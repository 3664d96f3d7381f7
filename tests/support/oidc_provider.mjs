// A real OpenID Provider for trying single sign-on and for the tests: the certified npm package
// oidc-provider, on 127.0.0.1, with a sign-in page of its own where anyone says who they are.
// NEVER a provider for real staff: it asks for no password.
//
//   node tests/support/oidc_provider.mjs --port 9090 \
//     --redirect-uri http://127.0.0.1:8000/officer/sign-in/oidc/callback
//
// The issuer is http://127.0.0.1:<port>; the client is "guarantee" with the secret
// "guarantee-test-secret" (or --client-id, --client-secret). Tests register further clients
// (dynamic client registration, /reg) with the redirect URI of the server they start.
//
// Its sign-in page asks for an e-mail address, and whether the address is verified and whether
// the person "used multi-factor authentication" (the ID token then says amr ["pwd", "mfa"] and
// acr "urn:test:mfa"; otherwise amr ["pwd"] and acr "urn:test:pwd").
import { generateKeyPairSync, randomBytes } from "node:crypto";
import http from "node:http";
import { parseArgs } from "node:util";

import Provider from "oidc-provider";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "9090" },
    "redirect-uri": { type: "string", multiple: true, default: [] },
    "client-id": { type: "string", default: "guarantee" },
    "client-secret": { type: "string", default: "guarantee-test-secret" },
  },
});
const port = Number(args.port);
const issuer = `http://127.0.0.1:${port}`;

// Who has signed in at this provider, by e-mail (the subject): their claims.
const accounts = new Map();

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: randomBytes(8).toString("hex"), use: "sig", alg: "RS256" };

const clients = [];
if (args["redirect-uri"].length) {
  clients.push({
    client_id: args["client-id"],
    client_secret: args["client-secret"],
    redirect_uris: args["redirect-uri"],
    grant_types: ["authorization_code"],
    response_types: ["code"],
  });
}

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString("hex")] },
  // amr and acr go in every ID token (as the council providers send them), with the openid scope.
  claims: { openid: ["sub", "acr", "amr", "auth_time"], email: ["email", "email_verified"], profile: ["name"] },
  scopes: ["openid", "email", "profile"],
  responseTypes: ["code"],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // No consent page: the service is the council's own.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid email profile");
    await grant.save();
    return grant;
  },
  async findAccount(ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...account }) };
  },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, AuthorizationCode: 60, AccessToken: 600, IdToken: 600 },
});
provider.proxy = false;

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function signInPage(uid, client, problem) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 30em; margin: 2em auto; padding: 0 1em">
<h1>Test identity provider</h1>
<p>Signing in to <strong>${escape(client)}</strong>. This provider is for testing only: it asks for no password.</p>
${problem ? `<p role="alert">${escape(problem)}</p>` : ""}
<form method="post" action="/interaction/${escape(uid)}">
  <p><label for="email">Email address</label><br><input id="email" name="email" type="email" required autofocus></p>
  <p><input id="verified" name="verified" type="checkbox" value="yes" checked> <label for="verified">This email address is verified</label></p>
  <p><input id="mfa" name="mfa" type="checkbox" value="yes"> <label for="mfa">I used multi-factor authentication</label></p>
  <p><button type="submit">Continue</button></p>
</form></body></html>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

const handler = provider.callback();
const server = http.createServer(async (req, res) => {
  const match = /^\/interaction\/([\w-]+)$/.exec(req.url.split("?")[0]);
  if (!match) return handler(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === "GET") {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      return res.end(signInPage(details.uid, details.params.client_id));
    }
    const form = await readForm(req);
    const email = (form.get("email") || "").trim().toLowerCase();
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
      res.writeHead(400, { "Content-Type": "text/html; charset=utf-8" });
      return res.end(signInPage(details.uid, details.params.client_id, "Enter an email address"));
    }
    const mfa = form.get("mfa") === "yes";
    accounts.set(email, { email, email_verified: form.get("verified") === "yes", name: email.split("@")[0] });
    const amr = mfa ? ["pwd", "mfa"] : ["pwd"];
    const acr = mfa ? "urn:test:mfa" : "urn:test:pwd";
    return await provider.interactionFinished(req, res, { login: { accountId: email, amr, acr, remember: false } }, {
      mergeWithLastSubmission: false,
    });
  } catch (error) {
    res.writeHead(400, { "Content-Type": "text/plain; charset=utf-8" });
    return res.end(`Sign-in could not go on: ${error.message}`);
  }
});

server.listen(port, "127.0.0.1", () => {
  console.log(`Test OpenID Provider at ${issuer}`);
  for (const client of clients) {
    console.log(`client ${client.client_id}, secret ${client.client_secret}, redirect URIs ${client.redirect_uris.join(" ")}`);
  }
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
