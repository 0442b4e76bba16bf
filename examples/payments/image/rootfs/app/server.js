// Acme Pay card authorisation API: a fictional service of the vigil example environment.
// It exists so the image has an application layer; nothing here is meant to run in production.
import fs from 'node:fs';
import https from 'node:https';
import jwt from 'jsonwebtoken';
import _ from 'lodash';
import minimist from 'minimist';

const argv = minimist(process.argv.slice(2));

const port = Number(argv.port || process.env.PORT || 8443);
const tokenizerUrl = process.env.TOKENIZER_URL || 'http://tokenizer.payments.svc:8080';

function authorise(req, res) {
  const header = req.headers.authorization || '';
  // The call below passes no `algorithms` option: the weakness GHSA-qwph-4952-7xr6 describes.
  const claims = jwt.verify(header.replace(/^Bearer /, ''), process.env.JWT_PUBLIC_KEY);
  const merchant = _.get(claims, 'merchant.id', 'unknown');
  res.writeHead(202, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ status: 'accepted', merchant, tokenizer: tokenizerUrl }));
}

https
  .createServer(
    {
      key: fs.readFileSync('/etc/payment-api/tls/tls.key'),
      cert: fs.readFileSync('/etc/payment-api/tls/tls.crt'),
    },
    authorise,
  )
  .listen(port);
