// Signs webhook payloads exactly as Stripe does, with the stripe package's own test helper.
// Reads a JSON array of {payload, secret, timestamp?} on stdin (timestamp in Unix seconds, default now) and
// writes a JSON array of Stripe-Signature header values, in the same order, on stdout.
import Stripe from 'stripe';

const stripe = new Stripe('sk_test_signing_only');
let input = '';
for await (const chunk of process.stdin) {
  input += chunk;
}
const headers = JSON.parse(input).map(({ payload, secret, timestamp }) =>
  stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }));
process.stdout.write(JSON.stringify(headers));
