// Starts an SMTP server for the tests on 127.0.0.1: plain text (no TLS), any sender, any recipient,
// AUTH accepted with any credentials but not required.
// Usage: node smtp.mjs [--port N] (or SMTP_PORT). Port 0 picks a free port.
// Prints "SMTP_READY <port>" once listening, then one "SMTP_MESSAGE <json>" line per message received,
// as mailparser understood it. Recipients whose local part starts with
//   "greylist" are refused once with 451 (as a greylisting server does), then accepted;
//   "reject"   are always refused with 550 (a permanent failure).
import { fstatSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.SMTP_PORT ?? '0' },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`smtp.mjs: invalid port '${values.port}'`);
  process.exit(2);
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => process.exit(0));
}

// The parent holds our stdin pipe: when it closes (the parent exited or died), so do we.
// Only for a pipe or socket, so that running it by hand with stdin at /dev/null still works.
const stdin = fstatSync(0);
if (stdin.isFIFO() || stdin.isSocket()) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.resume();
}

const greylisted = new Set();

function smtpError(responseCode, message) {
  const error = new Error(message);
  error.responseCode = responseCode;
  return error;
}

function addresses(header) {
  const objects = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return objects.flatMap((object) => object.value.map((mailbox) => mailbox.address));
}

const server = new SMTPServer({
  secure: false,
  hideSTARTTLS: true,
  disabledCommands: ['STARTTLS'],
  authOptional: true,
  allowInsecureAuth: true,
  disableReverseLookup: true,
  logger: false,
  onAuth(auth, _session, callback) {
    callback(null, { user: auth.username });
  },
  onRcptTo(address, _session, callback) {
    const local = address.address.split('@')[0].toLowerCase();
    if (local.startsWith('reject')) {
      return callback(smtpError(550, `5.1.1 <${address.address}>: mailbox unavailable`));
    }
    if (local.startsWith('greylist') && !greylisted.has(address.address)) {
      greylisted.add(address.address);
      return callback(smtpError(451, '4.7.1 Greylisted, please try again later'));
    }
    return callback();
  },
  onData(stream, session, callback) {
    simpleParser(stream)
      .then((mail) => {
        const message = {
          envelope_from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
          envelope_to: session.envelope.rcptTo.map((recipient) => recipient.address),
          auth_user: session.user ?? null,
          from: mail.from?.text ?? null,
          from_address: mail.from?.value[0]?.address ?? null,
          from_name: mail.from?.value[0]?.name ?? null,
          to: addresses(mail.to),
          subject: mail.subject ?? null,
          text: mail.text ?? null,
          html: mail.html || null,
          message_id: mail.messageId ?? null,
          content_type: mail.headers.get('content-type')?.value ?? null,
          auto_submitted: mail.headers.get('auto-submitted') ?? null,
        };
        console.log(`SMTP_MESSAGE ${JSON.stringify(message)}`);
        callback();
      })
      .catch((error) => {
        console.error(`smtp.mjs: cannot parse a message: ${error?.stack ?? error}`);
        callback(smtpError(451, '4.3.0 The test server could not parse the message'));
      });
  },
});

let listening = false;
server.on('error', (error) => {
  console.error(`smtp.mjs: ${error?.stack ?? error}`);
  if (!listening) {
    process.exit(1);
  }
});
server.listen(port, '127.0.0.1', () => {
  listening = true;
  console.log(`SMTP_READY ${server.server.address().port}`);
});
