// Drives tus-js-client (the reference tus client, from npm, pinned in package.json) against
// de-server's tus endpoint, for tests/integration/test_tus_js_client.sh.
//
// Everything goes through tus-js-client's own Node API (tus.Upload, FileUrlStorage,
// findPreviousUploads/resumeFromPreviousUpload, abort, parallelUploads); the only thing added is a
// thin wrapper around its HTTP stack that records each request (method, Upload-Offset, status) so
// the test can tell a resumed upload from a restarted one, and that can add `Upload-Checksum`
// (tus-js-client has no checksum support of its own). The credential comes from the environment
// (DE_TUS_AUTH, a full Authorization header value) so it never shows in a process list, and it is
// never printed.
//
// Usage: node tus_upload.mjs --endpoint URL --file PATH --mode MODE [options]
//   modes: plain      upload the file
//          interrupt  abort() once --after bytes are acknowledged (chunked PATCHes), then resume
//                     with a NEW tus.Upload found through the file URL storage, in this process
//          kill       SIGKILL this process mid-PATCH once --after bytes were sent (a crash;
//                     a single PATCH, so use it without --chunk-size)
//          resume     a new process: find the previous upload in the URL storage and finish it
//          terminate  abort(true) once --after bytes are acknowledged (tus termination)
//   options: --path REMOTE (metadata `path`), --store FILE (URL storage), --chunk-size N,
//            --parallel N (parallelUploads: concatenation), --after N, --checksum (sha256
//            Upload-Checksum on every PATCH), --corrupt-first (with --checksum: flip one byte of
//            the first PATCH's body, so the server must answer 460 and the client send it again),
//            --with-upload (creation-with-upload), --sha256 (whole-file sha256 in the metadata)
// Prints one JSON object on stdout: what happened (requests, offsets, the upload URL, ...).
// Exit status: 0 done, 1 the upload failed, 2 usage.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import * as tus from 'tus-js-client';

function usage(msg) {
    process.stderr.write(`tus_upload: ${msg}\n`);
    process.exit(2);
}

function parse_args(argv) {
    const opts = {
        mode: 'plain', chunkSize: Infinity, parallel: 1, after: 1 << 20, checksum: false,
        corruptFirst: false, withUpload: false, sha256: false, store: null, path: null,
    };
    const flags = new Set(['--checksum', '--corrupt-first', '--with-upload', '--sha256']);
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (flags.has(a)) {
            opts[{ '--checksum': 'checksum', '--corrupt-first': 'corruptFirst',
                   '--with-upload': 'withUpload', '--sha256': 'sha256' }[a]] = true;
            continue;
        }
        const v = argv[++i];
        if (v === undefined) usage(`${a} needs a value`);
        switch (a) {
        case '--endpoint': opts.endpoint = v; break;
        case '--file': opts.file = v; break;
        case '--path': opts.path = v; break;
        case '--mode': opts.mode = v; break;
        case '--store': opts.store = v; break;
        case '--chunk-size': opts.chunkSize = Number(v); break;
        case '--parallel': opts.parallel = Number(v); break;
        case '--after': opts.after = Number(v); break;
        default: usage(`unknown option ${a}`);
        }
    }
    if (!opts.endpoint || !opts.file) usage('--endpoint and --file are required');
    if (!['plain', 'interrupt', 'kill', 'resume', 'terminate'].includes(opts.mode)) {
        usage(`unknown mode ${opts.mode}`);
    }
    if (['interrupt', 'kill', 'resume'].includes(opts.mode) && !opts.store) {
        usage(`--mode ${opts.mode} needs --store FILE (the URL storage that makes resuming work)`);
    }
    return opts;
}

const opts = parse_args(process.argv.slice(2));
const auth = process.env.DE_TUS_AUTH;
if (!auth) usage('DE_TUS_AUTH (the Authorization header value) is not set');

// Every request tus-js-client makes, in order: {run, method, offset, status, checksum}.
const log = [];
let run = 1;
let corruptPending = opts.corruptFirst;

async function read_all(body) {
    if (body instanceof Readable) {
        const chunks = [];
        for await (const c of body) chunks.push(c);
        return Buffer.concat(chunks);
    }
    return Buffer.from(body);
}

// For --mode kill: passes a PATCH body through, and once `after` bytes went by holds the stream
// for a moment (so the kernel delivers what was written and the server stores it) and then dies
// by SIGKILL, like a crashed or killed client. Counting here, not in the throttled onProgress,
// makes the cut land at the same place however fast loopback is.
class KillAfter extends Transform {
    constructor(after) {
        super();
        this.after = after;
        this.seen = 0;
    }
    _transform(chunk, _enc, cb) {
        this.seen += chunk.length;
        if (this.seen < this.after) {
            cb(null, chunk);
            return;
        }
        this.push(chunk);
        setTimeout(() => process.kill(process.pid, 'SIGKILL'), 300);
    }
}

// Wraps tus-js-client's default Node HTTP stack: records requests, optionally adds a checksum.
class RecordingStack {
    constructor() { this.inner = new tus.DefaultHttpStack(); }
    getName() { return 'RecordingStack'; }
    createRequest(method, url) {
        const req = this.inner.createRequest(method, url);
        const entry = { run, method, url, offset: null, status: null, checksum: false };
        log.push(entry);
        const send = req.send.bind(req);
        req.send = async (body = null) => {
            const o = req.getHeader('Upload-Offset');
            entry.offset = o === undefined ? null : Number(o);
            if (opts.mode === 'kill' && method === 'PATCH' && body instanceof Readable) {
                body = body.pipe(new KillAfter(opts.after));
            }
            if (opts.checksum && body !== null) {
                // Bodies are one chunk (bounded by --chunk-size), so buffering one is fine here.
                let buf = await read_all(body);
                const sum = createHash('sha256').update(buf).digest('base64');
                if (corruptPending && buf.length > 0) {
                    corruptPending = false;
                    buf = Buffer.from(buf);
                    buf[0] ^= 0xff;
                    entry.corrupted = true;
                }
                req.setHeader('Upload-Checksum', `sha256 ${sum}`);
                req.setHeader('Content-Length', String(buf.length));
                entry.checksum = true;
                body = buf;
            }
            try {
                const res = await send(body);
                entry.status = res.getStatus();
                return res;
            } catch (err) {
                entry.status = 'error';
                throw err;
            }
        };
        return req;
    }
}

function sha256_file(p) {
    const h = createHash('sha256');
    const fd = fs.openSync(p, 'r');
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        h.update(buf.subarray(0, n));
    }
    fs.closeSync(fd);
    return h.digest('hex');
}

const stack = new RecordingStack();
const metadata = { filename: path.basename(opts.file) };
if (opts.path) metadata.path = opts.path;
if (opts.sha256) metadata.sha256 = sha256_file(opts.file);

function upload_options(extra) {
    return {
        endpoint: opts.endpoint,
        headers: { Authorization: auth },
        metadata,
        chunkSize: opts.chunkSize,
        parallelUploads: opts.parallel,
        uploadDataDuringCreation: opts.withUpload,
        // Short delays: the test runs on loopback. 460 (a checksum mismatch) is worth a retry:
        // tus-js-client retries no other 4xx but 409/423 by default.
        retryDelays: [0, 200, 500, 1000, 2000],
        onShouldRetry: (err, attempt, o) => {
            const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
            if (status === 460) return true;
            return status === 0 || status >= 500 || status === 409 || status === 423;
        },
        httpStack: stack,
        // Without a store, keep tus-js-client's default (no URL storage): an `undefined` here
        // would replace it.
        ...(opts.store ? { urlStorage: new tus.FileUrlStorage(opts.store) } : {}),
        storeFingerprintForResuming: Boolean(opts.store),
        removeFingerprintOnSuccess: Boolean(opts.store),
        ...extra,
    };
}

function last_response_info(payload) {
    const res = payload && payload.lastResponse;
    if (!res) return {};
    return { etag: res.getHeader('ETag') ?? null, entry: res.getHeader('X-De-Entry') ?? null };
}

// Starts an upload; resolves with {outcome: 'success'|'aborted'|'killed', ...}.
function start(upload_factory, stop_when) {
    return new Promise((resolve, reject) => {
        let upload = null;
        let stopped = false;
        const stop_check = (accepted, sent) => {
            if (stopped || !stop_when) return;
            const r = stop_when(accepted, sent);
            if (!r) return;
            stopped = true;
            upload.abort(r === 'terminate')
                .then(() => resolve({ outcome: r === 'terminate' ? 'terminated' : 'aborted',
                                      url: upload.url, accepted }))
                .catch(reject);
        };
        upload = upload_factory({
            onProgress: (sent) => stop_check(null, sent),
            onChunkComplete: (_size, accepted) => stop_check(accepted, null),
            onSuccess: (payload) => {
                if (!stopped) resolve({ outcome: 'success', url: upload.url,
                                        ...last_response_info(payload) });
            },
            onError: (err) => {
                if (!stopped) reject(err);
            },
        });
        if (upload.__resumeFrom) {
            upload.resumeFromPreviousUpload(upload.__resumeFrom);
        }
        upload.start();
    });
}

async function head_offset(url) {
    const res = await fetch(url, {
        method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0', Authorization: auth },
    });
    const o = res.headers.get('upload-offset');
    return { status: res.status, offset: o === null ? null : Number(o) };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// HEADs `url` until `settled(head, the HEAD before)` holds, `ms` apart, at most 100 times more;
// the last HEAD.
async function poll_head(url, ms, settled) {
    let head = await head_offset(url);
    if (settled(head, { offset: null })) return head;
    for (let i = 0; i < 100; i++) {
        await sleep(ms);
        const again = await head_offset(url);
        const done = settled(again, head);
        head = again;
        if (done) break;
    }
    return head;
}

async function previous_upload(file) {
    const probe = new tus.Upload(file, upload_options({}));
    const found = await probe.findPreviousUploads();
    return found;
}

async function resume_run(result) {
    const file = fs.createReadStream(opts.file);
    const found = await previous_upload(file);
    result.previous_uploads = found.length;
    if (found.length === 0) throw new Error('no previous upload in the URL storage');
    result.resume_url = found[0].uploadUrl ?? null;
    run = 2;
    const done = await start((cb) => {
        const u = new tus.Upload(file, upload_options(cb));
        u.__resumeFrom = found[0];
        return u;
    }, null);
    const second = log.filter((e) => e.run === 2);
    const first_patch = second.find((e) => e.method === 'PATCH');
    result.run2_posts = second.filter((e) => e.method === 'POST').length;
    result.run2_first_patch_offset = first_patch ? first_patch.offset : null;
    result.url = done.url;
    result.etag = done.etag ?? null;
    result.entry = done.entry ?? null;
    result.resumed = result.run2_posts === 0 && (result.run2_first_patch_offset ?? 0) > 0 &&
                     done.url === result.resume_url;
    return done;
}

async function main() {
    const size = fs.statSync(opts.file).size;
    const result = { mode: opts.mode, size, tus_js_client: 'tus-js-client', parallel: opts.parallel };
    try {
        if (opts.mode === 'plain') {
            const done = await start((cb) => new tus.Upload(fs.createReadStream(opts.file),
                                                            upload_options(cb)), null);
            Object.assign(result, { url: done.url, etag: done.etag ?? null,
                                    entry: done.entry ?? null });
        } else if (opts.mode === 'interrupt' || opts.mode === 'terminate') {
            const after = opts.after;
            const how = opts.mode === 'interrupt' ? 'abort' : 'terminate';
            const first = await start((cb) => new tus.Upload(fs.createReadStream(opts.file),
                                                             upload_options(cb)),
                                      (accepted) => accepted !== null && accepted >= after && how);
            if (first.outcome === 'success') throw new Error('the upload finished before --after');
            result.run1_url = first.url;
            result.run1_acknowledged = first.accepted;
            // The server keeps what it acknowledged; poll until a HEAD agrees (it may still be
            // finishing the aborted request on a loaded machine).
            if (how === 'terminate') {
                result.head_after_terminate = (await head_offset(first.url)).status;
            } else {
                const head = await poll_head(first.url, 100, (h) => h.offset >= first.accepted);
                result.head_offset_between = head.offset;
                await resume_run(result);
            }
        } else if (opts.mode === 'kill') {
            // No chunk size: one long PATCH, cut by the process dying mid-body (KillAfter).
            await start((cb) => new tus.Upload(fs.createReadStream(opts.file), upload_options(cb)),
                        null);
            throw new Error('the upload finished before it could be killed');
        } else if (opts.mode === 'resume') {
            // The previous process is gone; the server must know how far it got. It may still
            // be reading what the dead connection had sent (a loaded machine, a sanitizer build:
            // seconds), holding the upload meanwhile: poll until a HEAD shows progress and two
            // in a row, 200 ms apart, agree.
            const found = await previous_upload(fs.createReadStream(opts.file));
            if (found.length > 0 && found[0].uploadUrl) {
                const head = await poll_head(found[0].uploadUrl, 200,
                                             (h, before) => h.offset > 0 && h.offset === before.offset);
                result.head_offset_between = head.offset;
            }
            await resume_run(result);
        }
        result.requests = log.map(({ run: r, method, offset, status, checksum, corrupted }) => (
            { run: r, method, offset, status, checksum, ...(corrupted ? { corrupted } : {}) }));
        process.stdout.write(JSON.stringify(result) + '\n');
    } catch (err) {
        result.error = String(err && err.message ? err.message : err).replaceAll(auth, '<redacted>');
        result.requests = log.map(({ run: r, method, offset, status }) => ({ run: r, method, offset,
                                                                             status }));
        process.stdout.write(JSON.stringify(result) + '\n');
        process.stderr.write(`tus_upload: ${result.error}\n`);
        process.exit(1);
    }
}

main();
