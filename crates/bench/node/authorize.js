// The authorize step as a vendor would write it without the gateway: Express, the `redis`
// client, a signed session cookie, one SET with an expiry for the state, and a 302 back to the
// marketplace with it. The benchmark runs it as a third process beside the gateway and the
// bare reference, and measures its CPU per request the same way.
//
//   node authorize.js PORT REDIS_URL KEY_PREFIX COOKIE_SECRET
'use strict';

const crypto = require('node:crypto');
const express = require('express');
const { createClient } = require('redis');

const [port, redisUrl, prefix, secret] = process.argv.slice(2);
const allowedHosts = new Set(['app.hubspot.com', 'app-eu1.hubspot.com']);

// `account.signature`, the signature an HMAC-SHA256 of the account under the secret.
function account(cookieHeader) {
  const match = /(?:^|;\s*)sid=([^;]+)/.exec(cookieHeader || '');
  if (!match) return null;
  const [id, signature] = decodeURIComponent(match[1]).split('.');
  if (!id || !signature) return null;
  const expected = crypto.createHmac('sha256', secret).update(id).digest('base64url');
  const a = Buffer.from(signature);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b) ? id : null;
}

async function main() {
  const redis = createClient({ url: redisUrl });
  redis.on('error', (error) => console.error('redis:', error.message));
  await redis.connect();
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.get('/install/hubspot/crm', async (req, res) => {
    const who = account(req.headers.cookie);
    if (!who) return res.status(401).send('sign in first');
    let back;
    try {
      back = new URL(String(req.query.returnUrl));
    } catch {
      return res.status(400).send('bad returnUrl');
    }
    if (back.protocol !== 'https:' || !allowedHosts.has(back.host)) {
      return res.status(400).send('bad returnUrl');
    }
    const state = crypto.randomBytes(32).toString('base64url');
    try {
      await redis.set(`${prefix}state:${state}`, JSON.stringify({ account: who }), { EX: 600 });
    } catch {
      return res.status(503).send('try again');
    }
    back.searchParams.set('state', state);
    res.redirect(302, back.toString());
  });
  app.listen(Number(port), '127.0.0.1');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
