// Drives the official Direct Line client (botframework-directlinejs) against a Direct Line service.
//
// usage: node directline_client.js '<json options>'
//   {"domain": "http://127.0.0.1:PORT/v3/directline", "secret": S | "token": T,
//    "conversationId": C?, "watermark": W?, "userId": U, "say": ["text", ...], "timeoutMs": N}
// For each text it posts a message and waits for the bot's reply "echo: <text>" (the test bot echoes), then prints
// one JSON line: {"conversationId", "watermark", "postIds": [...], "activities": [{id, type, text, from, ...}]}.
// Exit codes: 0 done, 1 timed out or a post failed, 2 the client could not connect.

// DirectLineJS is written for browsers: Node 20 needs an XMLHttpRequest, and makeServices() dereferences the
// WebSocket global even when polling (reference notes §4.1).
global.XMLHttpRequest = require('xhr2');
global.WebSocket = require('ws');

const { DirectLine, ConnectionStatus } = require('botframework-directlinejs');

const options = JSON.parse(process.argv[2] || '{}');
const timeoutMs = options.timeoutMs || 20000;
const userId = options.userId || 'user-js';

const directLine = new DirectLine({
  domain: options.domain,
  secret: options.secret,
  token: options.token,
  conversationId: options.conversationId,
  watermark: options.watermark,
  webSocket: false,
  pollingInterval: 200,
});

const activities = [];
const postIds = [];
let conversationId = null;
const waiters = [];

let finished = false;

function finish(code, error) {
  // end() itself emits Ended on connectionStatus$, which calls back into finish.
  if (finished) return;
  finished = true;
  const result = { conversationId, watermark: directLine.watermark, postIds, activities };
  if (error) result.error = String(error);
  process.stdout.write(JSON.stringify(result) + '\n');
  directLine.end();
  process.exit(code);
}

setTimeout(() => finish(1, `timed out after ${timeoutMs} ms`), timeoutMs).unref();

directLine.connectionStatus$.subscribe((status) => {
  if (status === ConnectionStatus.Online) conversationId = directLine.conversationId;
  if (status === ConnectionStatus.FailedToConnect) finish(2, 'FailedToConnect');
  if (status === ConnectionStatus.Ended) finish(2, 'Ended');
});

directLine.activity$.subscribe((activity) => {
  activities.push({
    id: activity.id, type: activity.type, text: activity.text, from: activity.from,
    channelData: activity.channelData, replyToId: activity.replyToId,
  });
  for (const waiter of waiters.slice()) {
    if (waiter.match(activity)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(activity);
    }
  }
});

function waitForActivity(match) {
  const seen = activities.find(match);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => waiters.push({ match, resolve }));
}

function post(text) {
  return new Promise((resolve, reject) => {
    directLine.postActivity({
      type: 'message', text, from: { id: userId, name: 'User' },
      channelData: { clientActivityID: `client-${text}` },
    }).subscribe((id) => resolve(id), (error) => reject(error));
  });
}

async function run() {
  for (const text of options.say || []) {
    const id = await post(text);
    if (id === 'retry') throw new Error(`post of ${JSON.stringify(text)} failed (retry)`);
    postIds.push(id);
    await waitForActivity((a) => a.id === id);
    await waitForActivity((a) => a.type === 'message' && a.text === `echo: ${text}`);
  }
  finish(0);
}

run().catch((error) => finish(1, error && error.message ? error.message : error));
