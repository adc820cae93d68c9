// Drives the official Direct Line client (botframework-directlinejs) against a Direct Line service.
//
// usage: node directline_client.js '<json options>'
//   {"domain": "http://127.0.0.1:PORT/v3/directline", "secret": S | "token": T,
//    "conversationId": C?, "watermark": W?, "userId": U, "timeoutMs": N,
//    "webSocket": false?, "fixedRetryDelay": true?,
//    "steps": [{"say": "text"} | {"expect": "text"} | {"upload": {"text", "files": [{name, contentType, url}]}}, ...]}
// A "say" step posts a message and waits for its echo and the bot's reply "echo: <text>" (the test bot echoes); an
// "expect" step waits for a message with that text (a proactive one); an "upload" step posts a message with files
// as Web Chat does (attachments with a contentUrl the client can GET, which DirectLineJS uploads through
// postMessageWithAttachments) and waits for its echo. Then it prints one JSON line:
// {"conversationId", "watermark", "postIds": [...], "activities": [{id, type, text, from, ...}], "streamUrls": [...]}.
// Exit codes: 0 done, 1 timed out or a post failed, 2 the client could not connect.
//
// The client runs at its defaults (a WebSocket from the streamUrl, src/directLine.ts) unless "webSocket": false asks
// for polling (every 200 ms). "fixedRetryDelay" makes its wait before a reconnect 3 s instead of a random 3-15 s
// (getRetryDelay: 3000 + random() * 12000).

// DirectLineJS is written for browsers: Node 20 needs an XMLHttpRequest and a WebSocket (its README, "Using from
// within a Node environment"; makeServices() dereferences the WebSocket global even when polling). The WebSocket is
// the `ws` package, wrapped to record each URL the client opens.
//
// A browser's XMLHttpRequest encodes a FormData body itself (multipart/form-data with its own boundary); xhr2 sends
// only strings and buffers. So a FormData body is encoded by Node's own fetch implementation (Response) and sent with
// the Content-Type it chose, as a browser would: DirectLineJS's uploads build one (postMessageWithAttachments).
const NodeXMLHttpRequest = require('xhr2');

global.XMLHttpRequest = class FormDataXMLHttpRequest extends NodeXMLHttpRequest {
  send(body) {
    if (!(body instanceof FormData)) return super.send(body);
    const encoded = new Response(body);
    encoded.arrayBuffer().then((buffer) => {
      this.setRequestHeader('Content-Type', encoded.headers.get('content-type'));
      super.send(buffer);
    }, (error) => finish(1, `cannot encode the upload: ${error}`));
    return undefined;
  }
};
const NodeWebSocket = require('ws');

const streamUrls = [];
global.WebSocket = class RecordingWebSocket extends NodeWebSocket {
  constructor(url, protocols) {
    streamUrls.push(url);
    super(url, protocols);
  }
};

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
  webSocket: options.webSocket,
  pollingInterval: options.webSocket === false ? 200 : undefined,
  random: options.fixedRetryDelay ? () => 0 : undefined,
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
  const result = { conversationId, watermark: directLine.watermark, postIds, activities, streamUrls };
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
    channelData: activity.channelData, replyToId: activity.replyToId, attachments: activity.attachments,
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

function upload({ text, files }) {
  return new Promise((resolve, reject) => {
    directLine.postActivity({
      type: 'message', text, from: { id: userId, name: 'User' },
      attachments: files.map(({ name, contentType, url }) => ({ name, contentType, contentUrl: url })),
      channelData: { clientActivityID: `client-upload-${text}` },
    }).subscribe((id) => resolve(id), (error) => reject(error));
  });
}

async function run() {
  for (const step of options.steps || []) {
    if (step.expect !== undefined) {
      await waitForActivity((a) => a.type === 'message' && a.text === step.expect);
      continue;
    }
    if (step.upload !== undefined) {
      const id = await upload(step.upload);
      if (id === 'retry') throw new Error(`upload of ${JSON.stringify(step.upload.text)} failed (retry)`);
      postIds.push(id);
      await waitForActivity((a) => a.id === id);
      continue;
    }
    const id = await post(step.say);
    if (id === 'retry') throw new Error(`post of ${JSON.stringify(step.say)} failed (retry)`);
    postIds.push(id);
    await waitForActivity((a) => a.id === id);
    await waitForActivity((a) => a.type === 'message' && a.text === `echo: ${step.say}`);
  }
  finish(0);
}

run().catch((error) => finish(1, error && error.message ? error.message : error));
