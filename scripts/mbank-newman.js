#!/usr/bin/env node
// Runs mBank's own Postman collection (v3) with newman against a psd2bank
// sandbox, request by request in the collection's order, with mBank's own
// environment file and its signing script (jwsInternalScript, jsrsasign).
//
// Between an authorize request and its token request it does what the
// collection's README asks a person to do: open authorizationRedirectUri,
// log in as a sandbox customer, approve with the SMS code the sandbox shows
// at /sandbox/sms, and copy the code from the redirect to
// https://tpp-redirect-uri.com into {{authorizationCode}}. Nothing else of
// the collection is changed.
//
// Usage (see README, "mBank's Postman collection with newman"):
//
//	npm install newman   # in this directory or globally (NODE_PATH)
//	node scripts/mbank-newman.js \
//	    --collection cmd/psd2bank/testdata/mbank/mBank-PSD2-API-v3.postman_collection.json \
//	    --environment bank-simulator-pl-corpo-sandbox.postman_environment.json \
//	    --tpp ./postman-tpp --data ./psd2bank-data
//
// --environment is mBank's environment file from
// github.com/melements/mBank-PSD2-api-postman-collection (v3/); the script
// fills in its placeholders (private key, certificate URL and fingerprint,
// client id, TPP id, xs2aUri, bankId, sample accounts) from the TPP
// directory written by `psd2bank certs issue --key rsa --register
// --redirect-uri https://tpp-redirect-uri.com --out DIR` and from the
// sandbox's data directory (endpoints.json, psus.json).
//
// It prints one line per request (status, method, name) and a summary; the
// exit status is 1 when a request was not answered 2xx.
"use strict";

const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const http = require("http");
const { URL } = require("url");
const newman = require("newman");

function arg(name, def) {
  const i = process.argv.indexOf("--" + name);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (def !== undefined) return def;
  console.error(`missing --${name}`);
  process.exit(2);
}

const collectionFile = arg("collection");
const environmentFile = arg("environment");
const tppDir = arg("tpp");
const dataDir = arg("data", "./psd2bank-data");
const bankId = arg("bank-id", "pl-retail");
const only = arg("only", ""); // a substring of "/folder/request name", to run a part
const verbose = process.argv.includes("--verbose"); // print every answer
// --fix-samples replaces the collection's sample data that a bank must
// refuse (see fixSamples) and reads a transaction's details after the list.
const fixSamples = process.argv.includes("--fix-samples");

const collection = JSON.parse(fs.readFileSync(collectionFile, "utf8"));
const environment = JSON.parse(fs.readFileSync(environmentFile, "utf8"));
const client = JSON.parse(fs.readFileSync(path.join(tppDir, "client.json"), "utf8"));
const endpoints = JSON.parse(fs.readFileSync(path.join(dataDir, "sandbox", "endpoints.json"), "utf8"));
const psus = JSON.parse(fs.readFileSync(path.join(dataDir, "sandbox", "psus.json"), "utf8"));
const qsealPEM = fs.readFileSync(path.join(tppDir, "qsealc.pem"), "utf8");
const qsealKey = fs.readFileSync(path.join(tppDir, "qsealc.key"), "utf8");

// The customer: the first one with two PLN accounts (sender and CAF).
const who = psus.find((p) => p.accounts.filter((a) => a.currency === "PLN").length >= 2) || psus[0];
const pln = who.accounts.filter((a) => a.currency === "PLN");
// A recipient in another customer's book, so the payments are real transfers.
const other = psus.find((p) => p !== who);
const recipients = other.accounts.filter((a) => a.currency === "PLN");

const der = Buffer.from(qsealPEM.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
const fingerprint = crypto.createHash("sha256").update(der).digest("base64url");

const apiURL = endpoints.api || endpoints.API;
const webURL = endpoints.web || endpoints.Web;
const fill = {
  tppJwsPrivateKey: qsealKey,
  tppJwsCertUrl: `${webURL}/sandbox/qtsp/certs/${fingerprint}.pem`,
  tppJwsCertFingerprint: fingerprint,
  clientId: client.client_id,
  tppId: client.tpp_id,
  xs2aUri: apiURL.replace(/\/$/, ""),
  bankId,
  senderAccountNumber: pln[0].number,
  recipientAccountNumber: recipients[0].number,
  recipientAccountNumber_2: (recipients[1] || recipients[0]).number,
  currency: "PLN",
};
for (const v of environment.values) {
  if (v.key in fill) v.value = fill[v.key];
}

// The requests in order, each with the events of the folders above it.
const requests = [];
(function walk(items, events, folder) {
  for (const it of items) {
    if (it.item) walk(it.item, events.concat(it.event || []), folder + "/" + it.name);
    else requests.push({ item: it, folderEvents: events, folder });
  }
})(collection.item, [], "");

// fixSamples replaces, in the request bodies, the collection's sample data
// that a bank must refuse: the recurring transfer's dates of 2018-2025
// (a start in the past) become tomorrow and a year later; the split
// payment's amount 0.01, smaller than its VAT 0.23, becomes 1.23, and its
// seller's NIP 5512265909, which no check digit makes valid, 5260250274; the
// bundle's fixed tppPaymentIds, usable once per TPP, become new UUIDs. And
// "Get transaction details" goes after "Get transaction list", with the
// first transaction's aspspTransactionId instead of the environment's
// mBank one.
function applyFixes() {
  const day = (d) => new Date(Date.now() + d * 86400000).toISOString().slice(0, 10);
  const ids = {};
  for (const r of requests) {
    const body = r.item.request.body;
    if (!body || !body.raw) continue;
    body.raw = body.raw
      .replaceAll('"startDate": "2018-07-26"', `"startDate": "${day(1)}"`)
      .replaceAll('"endDate": "2025-07-26"', `"endDate": "${day(366)}"`)
      .replace(/"tppPaymentId": "([0-9a-f-]{36})"/g, (_, id) => `"tppPaymentId": "${(ids[id] ||= crypto.randomUUID())}"`);
    if (r.folder.endsWith("/Split payment"))
      body.raw = body.raw
        .replaceAll('"amount": "0.01"', '"amount": "1.23"')
        .replaceAll('"spTaxIdentificationNumber": "5512265909"', '"spTaxIdentificationNumber": "5260250274"');
  }
  const details = requests.findIndex((r) => r.item.name === "Get transaction details");
  const list = requests.findIndex((r) => r.item.name === "Get transaction list");
  if (details >= 0 && list > details) requests.splice(list, 0, ...requests.splice(details, 1));
}
if (fixSamples) applyFixes();

function single(r) {
  const item = JSON.parse(JSON.stringify(r.item));
  // Folder scripts run before the request's own, as in a full run.
  const pre = r.folderEvents.filter((e) => e.listen === "prerequest");
  const test = r.folderEvents.filter((e) => e.listen === "test");
  return {
    info: collection.info,
    event: (collection.event || []).concat(pre, test),
    item: [item],
  };
}

function runOne(r, globals) {
  return new Promise((resolve, reject) => {
    let answer = { code: 0, body: "" };
    newman
      .run({
        collection: single(r),
        environment,
        globals,
        sslClientCert: path.join(tppDir, "qwac.pem"),
        sslClientKey: path.join(tppDir, "qwac.key"),
        sslExtraCaCerts: path.join(dataDir, "sandbox", "bank-tls-ca.pem"),
        reporters: [],
      })
      .on("request", (err, o) => {
        if (err) answer = { code: 0, body: String(err) };
        else answer = { code: o.response.code, body: o.response.stream ? o.response.stream.toString() : "" };
      })
      .on("done", (err, summary) => {
        if (err) return reject(err);
        const failures = summary.run.failures.map((f) => `${f.error.name}: ${f.error.message}`);
        resolve({ answer, globals: summary.globals, failures });
      });
  });
}

// The customer's browser: cookies, no automatic redirects.
class Browser {
  constructor() {
    this.cookies = {};
  }
  async request(method, url, form) {
    const headers = { Cookie: Object.entries(this.cookies).map(([k, v]) => `${k}=${v}`).join("; ") };
    let body;
    if (form) {
      body = new URLSearchParams(form).toString();
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      headers["Origin"] = new URL(url).origin;
    }
    const res = await fetch(url, { method, headers, body, redirect: "manual" });
    for (const c of res.headers.getSetCookie ? res.headers.getSetCookie() : []) {
      const [kv] = c.split(";");
      const i = kv.indexOf("=");
      this.cookies[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const text = await res.text();
    const loc = res.headers.get("location");
    return { status: res.status, text, location: loc ? new URL(loc, url).toString() : "" };
  }
  async get(url) {
    for (let i = 0; i < 5; i++) {
      const r = await this.request("GET", url);
      if (r.status < 300 || r.status >= 400) return { url, text: r.text };
      url = r.location;
    }
    throw new Error("too many redirects at " + url);
  }
}

// consent walks the bank's consent page as the customer: log in, keep the
// accounts the page ticks (or choose the first offered sender), approve by
// SMS. It returns the code the bank sends back to the redirect_uri.
async function consent(page, state) {
  const b = new Browser();
  let { url, text } = await b.get(page);
  if (!text.includes('name="password"')) throw new Error("the consent page did not ask to log in");
  let r = await b.request("POST", url + "/login", { login: who.login, password: who.password });
  if (!r.location) throw new Error("login refused: " + r.text.slice(0, 300));
  ({ url, text } = await b.get(page));
  const form = new URLSearchParams({ method: "sms" });
  const boxes = [...text.matchAll(/<input type="(radio|checkbox)"[^>]*name="account" value="(\d{26})"([^>]*)>/g)];
  const usable = boxes.filter((m) => !m[3].includes("disabled"));
  const checked = usable.filter((m) => m[3].includes("checked"));
  if (checked.length) checked.forEach((m) => form.append("account", m[2]));
  else if (usable.length && usable[0][1] === "radio") form.append("account", usable[0][2]);
  else usable.forEach((m) => form.append("account", m[2]));
  r = await b.request("POST", url + "/approve", form);
  if (!r.location) throw new Error("approve refused: " + r.text.replace(/\s+/g, " ").slice(0, 600));
  ({ text } = await b.get(r.location));
  const ch = text.match(/name="challenge" value="([^"]+)"/);
  if (!ch) throw new Error("no SMS form");
  const sms = await (await fetch(`${webURL}/sandbox/sms?login=${encodeURIComponent(who.login)}`)).json();
  if (!sms.length) throw new Error("no SMS was sent");
  r = await b.request("POST", page + "/sms", { challenge: ch[1], code: sms[0].code });
  if (!r.location) throw new Error("SMS code refused: " + r.text.slice(0, 300));
  const back = new URL(r.location);
  if (back.searchParams.get("state") !== state) throw new Error(`redirect ${r.location} without the state`);
  return back.searchParams.get("code");
}

(async () => {
  let globals = { values: [] };
  const get = (k) => (globals.values || []).find((v) => v.key === k)?.value;
  const set = (k, value) => {
    globals.values = (globals.values || []).filter((v) => v.key !== k).concat([{ key: k, value, type: "any" }]);
  };
  let ok = 0;
  const failed = [];
  for (const r of requests) {
    const name = r.item.name;
    if (only && !(r.folder + "/" + name).includes(only)) continue;
    let res;
    try {
      res = await runOne(r, globals);
    } catch (e) {
      failed.push(`${name}: ${e}`);
      console.log(`ERR  ${name}: ${e}`);
      continue;
    }
    globals = res.globals;
    const { code, body } = res.answer;
    const good = code >= 200 && code < 300;
    if (good && res.failures.length === 0) ok++;
    else failed.push(`${name}: ${code} ${body.slice(0, 400)} ${res.failures.join("; ")}`);
    console.log(`${good && !res.failures.length ? "ok  " : "FAIL"} ${code} ${r.item.request.method} ${name}` +
      (good && !res.failures.length && !verbose ? "" : `\n     ${body.slice(0, 600)}${res.failures.length ? "\n     script: " + res.failures.join("; ") : ""}`));
    if (good && fixSamples && name === "Get transaction list") {
      const txs = JSON.parse(body).transactions || [];
      const v = environment.values.find((v) => v.key === "aspspTransactionId"); // the environment's wins over a global
      if (txs.length && v) v.value = txs[0].aspspTransactionId;
    }
    if (good && /Retrieve authorization URI/.test(name)) {
      try {
        set("authorizationCode", await consent(get("authorizationRedirectUri"), get("state")));
      } catch (e) {
        console.log(`     the customer could not approve: ${e.message}`);
      }
    }
  }
  console.log(`\n${ok} of ${ok + failed.length} requests answered 2xx with their scripts passing`);
  process.exit(failed.length ? 1 : 0);
})();
