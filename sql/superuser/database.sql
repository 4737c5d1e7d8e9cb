-- The per-database part of DbFirst's superuser step, run by `scripts/db.sh start` as the postgres OS user in
-- template1 (so every new database has it) and in every database dbfirst_owner owns. It installs what only
-- a superuser may install, so that `dbfirst migrate up` runs as the non-superuser dbfirst_owner:
--   - the vector extension (pgvector's control file is not `trusted`), updated to the installed library;
--   - plpython3u and gallery_encoder.fetch, the untrusted-language function that asks `dbfirst serve`
--     for a text embedding. Only dbfirst_owner may call it (from gallery.text_embedding, migration 42).

SET client_min_messages = warning;

CREATE EXTENSION IF NOT EXISTS vector;
-- After a newer pgvector library is installed (scripts/setup.sh), existing databases move to it here.
ALTER EXTENSION vector UPDATE;
CREATE EXTENSION IF NOT EXISTS plpython3u;

-- A schema of its own, owned by the superuser: dbfirst_owner may call what is in it but never replace it.
CREATE SCHEMA IF NOT EXISTS gallery_encoder AUTHORIZATION postgres;
REVOKE ALL ON SCHEMA gallery_encoder FROM PUBLIC;
GRANT USAGE ON SCHEMA gallery_encoder TO dbfirst_owner;

-- Asks the `dbfirst serve` at url for the CLIP embedding of query, trusting nothing it has not verified:
--   1. url must be http://<loopback IP>:<port>/<path>: no other scheme, no host name, no user info.
--   2. POST <path minus /text>/hello {"nonce"}: the answer must be HMAC-SHA256(key, "dbfirst-encoder-hello\n" || nonce).
--      Only serve holds key (it reads gallery.encoder_key through its own login), so a process squatting the port
--      fails here and never sees the query text.
--   3. POST <path> {"text", "nonce"}: the body must carry X-DbFirst-Signature =
--      HMAC-SHA256(key, "dbfirst-encoder-embedding\n" || nonce || "\n" || sha256(query) || "\n" || body).
-- Each exchange is one HTTP/1.0 request on a raw socket: redirects are never followed, an answer larger than
-- 256 KiB is refused, and every connect/send/receive waits at most until one deadline timeout_ms away, so the
-- backend is never held longer than that. Failures come back in `failure` (never raised, never with a body).
CREATE OR REPLACE FUNCTION gallery_encoder.fetch(
  url        text,
  query      text,
  timeout_ms int,
  key        bytea,
  OUT model     text,
  OUT embedding real[],
  OUT failure   text)
LANGUAGE plpython3u
VOLATILE
AS $py$
import hashlib
import hmac
import ipaddress
import json
import math
import os
import socket
import time
import urllib.parse

MAX_ANSWER_BYTES = 256 * 1024

parts = urllib.parse.urlsplit(url or "")
try:
    host = ipaddress.ip_address(parts.hostname or "")
    port = parts.port
except ValueError:
    host, port = None, None
if (parts.scheme != "http" or host is None or not host.is_loopback or port is None
        or parts.username is not None or parts.password is not None or parts.query or parts.fragment
        or not parts.path.endswith("/text")):
    return (None, None, "it must be http://<loopback address>:<port>/embed/text")
if not key or len(key) < 32:
    return (None, None, "the encoder key is missing")
secret = bytes(key)

deadline = time.monotonic() + min(max(timeout_ms or 5000, 100), 30000) / 1000.0

def left():
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("no answer within embed_timeout_ms")
    return remaining

def post(path, payload):
    body = json.dumps(payload).encode("utf-8")
    head = ("POST %s HTTP/1.0\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % (path, parts.netloc, len(body))).encode("ascii")
    with socket.create_connection((str(host), port), timeout=left()) as sock:
        sock.settimeout(left())
        sock.sendall(head + body)
        answer = bytearray()
        while True:
            sock.settimeout(left())
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
            if len(answer) > MAX_ANSWER_BYTES:
                raise ValueError("answered more than %d bytes" % MAX_ANSWER_BYTES)
    header_end = answer.find(b"\r\n\r\n")
    if header_end < 0:
        raise ValueError("sent no complete HTTP answer")
    lines = bytes(answer[:header_end]).decode("latin-1").split("\r\n")
    status = lines[0].split(" ")
    if len(status) < 2 or status[1] != "200":
        raise ValueError("answered HTTP %s" % (status[1] if len(status) > 1 else "?")[:3])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers, bytes(answer[header_end + 4:])

nonce = os.urandom(32)
hello_path = parts.path[: -len("/text")] + "/hello"
try:
    _, hello = post(hello_path, {"nonce": nonce.hex()})
    proof = json.loads(hello.decode("utf-8")).get("proof")
    expected = hmac.new(secret, b"dbfirst-encoder-hello\n" + nonce, hashlib.sha256).hexdigest()
    if not isinstance(proof, str) or not hmac.compare_digest(proof, expected):
        return (None, None, "the process there could not prove it is this database's `dbfirst serve` (it lacks the encoder key)")
    headers, body = post(parts.path, {"text": query, "nonce": nonce.hex()})
except (OSError, ValueError, AttributeError) as error:
    return (None, None, "no proper answer: %s" % (str(error)[:200] or type(error).__name__))

signature = headers.get("x-dbfirst-signature", "")
expected = hmac.new(
    secret,
    b"dbfirst-encoder-embedding\n" + nonce + b"\n" + hashlib.sha256(query.encode("utf-8")).digest() + b"\n" + body,
    hashlib.sha256).hexdigest()
if not hmac.compare_digest(signature, expected):
    return (None, None, "sent an embedding without a valid signature")
try:
    answer = json.loads(body.decode("utf-8"))
except ValueError:
    return (None, None, "sent an answer that is not JSON")
vector = answer.get("embedding") if isinstance(answer, dict) else None
name = answer.get("model") if isinstance(answer, dict) else None
if (not isinstance(name, str) or not name or not isinstance(vector, list) or not vector
        or not all(isinstance(x, (int, float)) and math.isfinite(x) for x in vector)
        or answer.get("dim") != len(vector)):
    return (None, None, "sent an answer that is not {model, dim, embedding}")
return (name, vector, None)
$py$;

COMMENT ON FUNCTION gallery_encoder.fetch(text, text, int, bytea) IS
  'Text embedding from `dbfirst serve` at a loopback url, authenticated with the encoder key; internal to gallery.text_embedding.';

REVOKE ALL ON FUNCTION gallery_encoder.fetch(text, text, int, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gallery_encoder.fetch(text, text, int, bytea) TO dbfirst_owner;

-- Replication health for `dbfirst status`. pg_stat_replication shows its lag columns only to superusers and
-- pg_read_all_stats, which would also show DbFirst's logins every session's query text; this function shows the
-- standbys' names, states and lag, nothing else. On a standby it reports its own replay delay instead.
CREATE SCHEMA IF NOT EXISTS gallery_monitor AUTHORIZATION postgres;
REVOKE ALL ON SCHEMA gallery_monitor FROM PUBLIC;
GRANT USAGE ON SCHEMA gallery_monitor TO dbfirst_owner, dbfirst_app;

CREATE OR REPLACE FUNCTION gallery_monitor.replication()
RETURNS TABLE (standby text, state text, replay_lag_seconds double precision, behind_bytes numeric)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
  -- On the primary: one row per connected standby.
  SELECT r.application_name, r.state, extract(epoch FROM coalesce(r.replay_lag, interval '0'))::double precision,
         pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)
  FROM pg_stat_replication r
  WHERE NOT pg_is_in_recovery()
  UNION ALL
  -- On a standby: itself. With nothing left to replay it is current, however long ago the last write was.
  SELECT NULL, 'standby',
         CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
              ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::double precision END,
         pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
  WHERE pg_is_in_recovery();
$fn$;

COMMENT ON FUNCTION gallery_monitor.replication() IS
  'Streaming standbys of this primary (name, state, replay lag, bytes behind), or on a standby its own replay delay; for `dbfirst status`.';

REVOKE ALL ON FUNCTION gallery_monitor.replication() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gallery_monitor.replication() TO dbfirst_owner, dbfirst_app;
