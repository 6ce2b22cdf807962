# SPDX-License-Identifier: Apache-2.0
"""A stateful fake of Cloudflare's API v4 (zones and DNS records) for the DNS writer's tests.

It keeps zones and records, paginates lists, runs the batch endpoint as one transaction
(deletes, patches, puts, posts; all or nothing), answers errors with Cloudflare's envelope,
enforces the A/AAAA/CNAME exclusivity (81053), stores TTL 1 for proxied records, and can be told
to answer the next requests with an injected status (429 with retry-after, 503, ...). Every
request body and every response body is validated against the operation's schema in
../shared/schemas/cloudflare/cloudflare-dns-zones.mock.openapi.json (OpenAPI 3.0: "nullable" is
mapped to a JSON-schema null type); violations are collected in `violations`.
"""
import copy
import datetime
import json
import os
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import jsonschema

def _schema_path():
    """../shared beside the repository (CI's layout), or two levels up (a worktree's); the
    environment variable CST_SHARED_DIR overrides both."""
    src = os.environ.get("CST_SOURCE_DIR", ".")
    candidates = [os.environ.get("CST_SHARED_DIR", ""), os.path.join(src, "..", "shared"),
                  os.path.join(src, "..", "..", "shared")]
    for base in candidates:
        path = os.path.join(base, "schemas", "cloudflare", "cloudflare-dns-zones.mock.openapi.json")
        if base and os.path.exists(path):
            return path
    return os.path.join(candidates[1], "schemas", "cloudflare", "cloudflare-dns-zones.mock.openapi.json")


SCHEMA_PATH = _schema_path()


def _nullable(node):
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if node.get("nullable") and "type" in node:
            t = node["type"]
            node["type"] = [t, "null"] if isinstance(t, str) else list(t) + ["null"]
            if "enum" in node and None not in node["enum"]:
                node["enum"] = node["enum"] + [None]
        return node
    if isinstance(node, list):
        return [_nullable(x) for x in node]
    return node


class Schemas:
    def __init__(self, path):
        with open(path) as f:
            doc = json.load(f)
        self.components = _nullable(doc["components"])
        self.paths = _nullable(doc["paths"])

    def _validate(self, schema, value, what):
        v = jsonschema.Draft4Validator({**schema, "components": self.components})
        return [f"{what}: {e.message} at {list(e.absolute_path)}" for e in v.iter_errors(value)]

    def request(self, template, method, body):
        op = self.paths[template][method.lower()]
        rb = op.get("requestBody")
        if body is None:
            return [] if not rb or not rb.get("required") else [f"{method} {template}: body required"]
        return self._validate(rb["content"]["application/json"]["schema"], body, f"request {method} {template}")

    def response(self, template, method, status, body):
        op = self.paths[template][method.lower()]
        resp = op["responses"].get(str(status)) or op["responses"].get(f"{str(status)[0]}XX")
        if resp is None:
            return [] if status == 429 else [f"{method} {template}: undeclared status {status}"]
        return self._validate(resp["content"]["application/json"]["schema"], body, f"response {status} {method} {template}")


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def envelope(result, **extra):
    return {"success": True, "errors": [], "messages": [], "result": result, **extra}


def failure(code, message):
    return {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class FakeCloudflare:
    TOKEN = "test-token"

    def __init__(self, zones=("example.com",)):
        if not os.path.exists(SCHEMA_PATH):
            raise FileNotFoundError(SCHEMA_PATH)
        self.schemas = Schemas(SCHEMA_PATH)
        self.zones = {uuid.uuid4().hex: z for z in zones}
        self.records = {}  # id → record
        self.requests = []  # (method, path, query)
        self.violations = []
        self.inject = []  # [(method or None, path regex or None, status, body, headers)]
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/client/v4"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def zone_id(self, name):
        return next(i for i, z in self.zones.items() if z == name)

    def add(self, zone, name, rtype, content, ttl=300, proxied=False, comment=None, tags=None):
        rec = self._make({"type": rtype, "name": name, "content": content, "ttl": ttl, "proxied": proxied,
                          "comment": comment, "tags": tags or []}, self.zone_id(zone))
        self.records[rec["id"]] = rec
        return rec

    def find(self, name, rtype=None):
        return sorted((r for r in self.records.values() if r["name"] == name and (rtype is None or r["type"] == rtype)),
                      key=lambda r: r["content"])

    def writes(self):
        return [r for r in self.requests if r[0] != "GET"]

    # --- model ---------------------------------------------------------------------------------
    def _make(self, body, zone_id, rid=None):
        rtype = body["type"]
        proxiable = rtype in ("A", "AAAA", "CNAME")
        proxied = bool(body.get("proxied", False)) and proxiable
        rec = {"id": rid or uuid.uuid4().hex, "zone_id": zone_id, "zone_name": self.zones[zone_id],
               "name": body["name"].rstrip(".").lower(), "type": rtype, "content": body["content"],
               "proxiable": proxiable, "proxied": proxied, "ttl": 1 if proxied else int(body.get("ttl", 1)),
               "meta": {"auto_added": False, "source": "primary"}, "created_on": _now(), "modified_on": _now(),
               "tags": sorted(body.get("tags") or [])}
        if body.get("comment"):
            rec["comment"] = body["comment"]
        return rec

    def _check_exclusive(self, records, rec):
        for other in records.values():
            if other["id"] == rec["id"] or other["name"] != rec["name"] or other["zone_id"] != rec["zone_id"]:
                continue
            addr = ("A", "AAAA", "CNAME")
            if rec["type"] in addr and other["type"] in addr and "CNAME" in (rec["type"], other["type"]):
                raise ApiError(400, 81053, "An A, AAAA, or CNAME record with that host already exists.")
            if rec["type"] == other["type"] and rec["content"] == other["content"]:
                raise ApiError(400, 81058, "An identical record already exists.")

    def _get(self, records, rid, zone_id):
        rec = records.get(rid)
        if rec is None or rec["zone_id"] != zone_id:
            raise ApiError(404, 81044, "Record does not exist.")
        return rec

    def _batch(self, zone_id, body):
        records = copy.deepcopy(self.records)
        out = {"deletes": [], "patches": [], "puts": [], "posts": []}
        for d in body.get("deletes", []):
            out["deletes"].append(records.pop(self._get(records, d["id"], zone_id)["id"]))
        for p in body.get("patches", []):
            rec = {**self._get(records, p["id"], zone_id), **{k: v for k, v in p.items() if k != "id"}}
            rec = self._make(rec, zone_id, rid=p["id"])
            self._check_exclusive(records, rec)
            records[rec["id"]] = rec
            out["patches"].append(rec)
        for p in body.get("puts", []):
            self._get(records, p["id"], zone_id)
            rec = self._make(p, zone_id, rid=p["id"])
            self._check_exclusive(records, rec)
            records[rec["id"]] = rec
            out["puts"].append(rec)
        for p in body.get("posts", []):
            rec = self._make(p, zone_id)
            self._check_exclusive(records, rec)
            records[rec["id"]] = rec
            out["posts"].append(rec)
        self.records = records
        return out

    # --- HTTP ------------------------------------------------------------------------------------
    def _route(self, method, path, query, body):
        m = re.fullmatch(r"/client/v4/zones", path)
        if m and method == "GET":
            zones = [{"id": i, "name": z, "status": "active", "paused": False, "type": "full",
                      "development_mode": 0, "name_servers": ["a.ns.example.net"], "original_name_servers": None,
                      "original_registrar": None, "original_dnshost": None, "created_on": _now(), "modified_on": _now(),
                      "activated_on": _now(), "meta": {}, "owner": {}, "account": {}, "permissions": [], "plan": {}}
                     for i, z in self.zones.items() if "name" not in query or query["name"][0] == z]
            return "/zones", 200, envelope(zones, result_info={"page": 1, "per_page": 20, "count": len(zones),
                                                               "total_count": len(zones), "total_pages": 1})
        m = re.fullmatch(r"/client/v4/zones/([0-9a-f]{32})/dns_records(?:/(batch|[0-9a-f]{32}))?", path)
        if not m or m.group(1) not in self.zones:
            raise ApiError(404, 7003, "No route for the URI")
        zone_id, sub = m.group(1), m.group(2)
        if sub is None:
            template = "/zones/{zone_id}/dns_records"
            if method == "GET":
                page = int(query.get("page", ["1"])[0])
                per_page = int(query.get("per_page", ["100"])[0])
                recs = sorted((r for r in self.records.values() if r["zone_id"] == zone_id), key=lambda r: r["id"])
                chunk = recs[(page - 1) * per_page: page * per_page]
                total_pages = max(1, -(-len(recs) // per_page))
                return template, 200, envelope(chunk, result_info={"page": page, "per_page": per_page, "count": len(chunk),
                                                                   "total_count": len(recs), "total_pages": total_pages})
            if method == "POST":
                rec = self._make(body, zone_id)
                self._check_exclusive(self.records, rec)
                self.records[rec["id"]] = rec
                return template, 200, envelope(rec)
        elif sub == "batch" and method == "POST":
            return "/zones/{zone_id}/dns_records/batch", 200, envelope(self._batch(zone_id, body))
        else:
            template = "/zones/{zone_id}/dns_records/{dns_record_id}"
            rec = self._get(self.records, sub, zone_id)
            if method == "GET":
                return template, 200, envelope(rec)
            if method == "DELETE":
                del self.records[sub]
                return template, 200, envelope({"id": sub})
            if method in ("PUT", "PATCH"):
                merged = body if method == "PUT" else {**rec, **body}
                new = self._make(merged, zone_id, rid=sub)
                self._check_exclusive(self.records, new)
                self.records[sub] = new
                return template, 200, envelope(new)
        raise ApiError(404, 7003, "No route for the URI")

    def _template_for(self, path):
        if re.fullmatch(r"/client/v4/zones", path):
            return "/zones"
        if path.endswith("/batch"):
            return "/zones/{zone_id}/dns_records/batch"
        if re.search(r"/dns_records/[0-9a-f]{32}$", path):
            return "/zones/{zone_id}/dns_records/{dns_record_id}"
        return "/zones/{zone_id}/dns_records"

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                u = urlparse(self.path)
                query = parse_qs(u.query)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                method = self.command
                status, headers, body = 200, {}, None
                with fake.lock:
                    fake.requests.append((method, u.path, query))
                    template = fake._template_for(u.path)
                    try:
                        req = json.loads(raw) if raw else None
                    except ValueError:
                        req = "<invalid JSON>"
                    if method in ("POST", "PUT", "PATCH") and template in fake.schemas.paths:
                        fake.violations += fake.schemas.request(template, method, req)
                    injected = False
                    for i, (m, p, st, b, h) in enumerate(fake.inject):
                        if (m is None or m == method) and (p is None or re.search(p, u.path)):
                            del fake.inject[i]
                            status, body, headers, injected = st, b, h, True
                            break
                    if body is None:
                        if self.headers.get("Authorization") != f"Bearer {fake.TOKEN}":
                            status, body = 401, failure(10000, "Authentication error")
                        else:
                            try:
                                template, status, body = fake._route(method, u.path, query, req)
                            except ApiError as e:
                                status, body = e.status, failure(e.code, e.message)
                    # Injected answers are what the test says the real API sends (its 429 body, as
                    # quoted in the wild, lacks "messages" and "result"; 5xx are undeclared): the
                    # client must cope with them, so they are not held to the schema.
                    if template in fake.schemas.paths and not injected:
                        fake.violations += fake.schemas.response(template, method, status, body)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        return Handler
