#!/usr/bin/python3
"""End-to-end test of `swinunetr serve`, the DICOM node, against real peers.

usage: node_test.py --cli build/bin/swinunetr --weights model.pt --work DIR
                    [--orthanc /usr/sbin/Orthanc] [--case N ...] [--timeout S]

The peers are real programs: Orthanc (started here with its own configuration and storage
under DIR, on free 127.0.0.1 ports; never the system service), DCMTK's storescu, echoscu and
dcmcjpeg, and dicom3tools' dciodvfy. The CT is pydicom's small real series (CT5N: 5 slices of
16 x 16); the non-CT input is pydicom's MR_small.dcm. Every case prints its name, what it
saw and PASS or FAIL; the script exits 1 when a case failed (or a tool, Orthanc or the
serve command is missing), 2 on a bad command line. Every process it starts (the nodes, Orthanc) is
stopped at the end, on failure, on SIGINT/SIGTERM and on its own deadline (--timeout,
under ctest's), and is killed by the kernel if this script is killed (PR_SET_PDEATHSIG).

Cases:
  0. a configuration with an unknown key is refused (exit 2, the key named)
  1. C-ECHO from ORTHANC succeeds; from INTRUDER it is rejected (and so is its C-STORE)
  2. Orthanc pushes CT5N to the node; a SEG comes back into the same study in Orthanc,
     passes dciodvfy, references the source series; the spool holds it in sent/ and done/
  3. CT5N JPEG-lossless (dcmcjpeg), new UIDs, sent by storescu: the SEG reaches Orthanc
  3b. a JPEG 2000 lossless CT series (tests/data/dicom_j2k, made by tests/data/make_dicom_j2k.py)
     sent by storescu: the SEG reaches Orthanc
  4. a non-CT series (MR) by storescu: no SEG, it ends in rejected/ with reason.txt, the
     node still answers C-ECHO
  5. destination down, then up: the SEG waits in outbox/ until Orthanc starts, then arrives
     (same SOP Instance UID as the file in outbox/)
  5b. restart with a SEG in outbox/ (destination down again, kill -9, restart, destination
     up): the file in outbox/ is sent as it is, once; the series is not segmented again
  6. kill -9 while a series is in work/, restart: exactly one SEG for it arrives
  7. bad inputs: a file cut inside its pixel data (sent by a minimal C-STORE SCU here, since
     storescu refuses to read it), a file cut before its pixel data, pixel data shorter than
     Rows x Columns, a single-slice CT, a series with its middle slice missing. After each:
     the node runs, answers C-ECHO, its log names the input, and it is done with the series
  7b. an association dropped in the middle of an instance: the two stored slices stay, the cut
     one is discarded (nothing left in tmp/), the node still answers, the series completes
  8. SIGTERM stops each node with exit status 0
"""
import argparse
import ctypes
import glob
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request

try:
    import pydicom
    from pydicom.uid import generate_uid
except ImportError:  # e.g. a pyenv python3 first on PATH: Debian's has python3-pydicom
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

PYDICOM_DATA = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the checkout
CT5N = os.path.join(PYDICOM_DATA, "dicomdirtests", "98892001", "CT5N")
MR_SMALL = os.path.join(PYDICOM_DATA, "MR_small.dcm")
SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
EXPLICIT_LE = "1.2.840.10008.1.2.1"

NODE_AET = "SWU"
ORTHANC_AET = "ORTHANC"
SERIES_TIMEOUT_S = 2


class Failure(Exception):
    pass


class Skip(Exception):
    pass


class Deadline(BaseException):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def say(message):
    print("    " + message, flush=True)


def wait_for(predicate, timeout, interval=0.25, what=None):
    """predicate()'s first true value within timeout seconds, else None (or Failure if what)."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= end:
            if what:
                raise Failure("timed out after %.0f s waiting for %s" % (timeout, what))
            return None
        time.sleep(interval)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# ---- processes ------------------------------------------------------------------------------
_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Processes:
    """Every long-lived process this script starts, so that all of them can be stopped."""

    def __init__(self):
        self.live = []

    def spawn(self, argv, log_path, cwd=None):
        log = open(log_path, "ab")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
                                start_new_session=True, preexec_fn=_die_with_parent)
        log.close()
        self.live.append(proc)
        return proc

    def stop(self, proc, sig=signal.SIGTERM, timeout=30):
        """Sends sig, waits; SIGKILL after timeout. Returns (exit status, stopped by sig in time)."""
        in_time = True
        if proc.poll() is None:
            try:
                proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                in_time = False
                proc.kill()
                proc.wait()
        if proc in self.live:
            self.live.remove(proc)
        return proc.returncode, in_time

    def stop_all(self):
        for proc in list(self.live):
            self.stop(proc, signal.SIGTERM, timeout=10)
            try:  # and whatever it left behind in its process group
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass


PROCS = Processes()


def run_tool(argv, timeout=60):
    """Runs a short-lived tool; returns (exit status, stdout+stderr)."""
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, preexec_fn=_die_with_parent)
        return r.returncode, r.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        return 124, out + "\n(timed out after %d s)" % timeout


def echoscu(port, aet, called=NODE_AET):
    return run_tool(["echoscu", "-aet", aet, "-aec", called, "-to", "10", "-ta", "10", "-td", "20",
                     "127.0.0.1", str(port)], timeout=40)


def storescu(port, files, aet=ORTHANC_AET, called=NODE_AET, propose=()):
    return run_tool(["storescu", "-v", "-nh"] + list(propose) + ["-aet", aet, "-aec", called, "-to", "10", "-ta", "10", "-td", "60",
                     "127.0.0.1", str(port)] + list(files), timeout=120)


def indent(text, limit=40):
    lines = text.rstrip().splitlines()
    if len(lines) > limit:
        lines = ["... (%d lines before)" % (len(lines) - limit)] + lines[-limit:]
    return "\n".join("      | " + line for line in lines)


# ---- the node under test --------------------------------------------------------------------
class Node:
    def __init__(self, name, cli, root, config):
        self.name = name
        self.cli = cli
        self.root = root
        self.config = config
        self.port = config["port"]
        self.spool = config["spool"]
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir, exist_ok=True)
        self.config_path = os.path.join(self.dir, "config.json")
        self.log_path = os.path.join(self.dir, "serve.log")
        self.proc = None
        with open(self.config_path, "w") as f:
            json.dump(config, f, indent=2)

    def start(self, timeout=120):
        with open(self.log_path, "ab") as log:
            log.write(("==== node_test: starting %s serve --config %s\n" % (self.cli, self.config_path)).encode())
        self.proc = PROCS.spawn([self.cli, "serve", "--config", self.config_path], self.log_path)

        def ready():
            if self.proc.poll() is not None:
                raise Failure("%s exited with status %s while starting; its log:\n%s"
                              % (self.name, self.proc.returncode, indent(self.log())))
            return port_open(self.port)
        wait_for(ready, timeout, 0.2, what="%s to listen on port %d" % (self.name, self.port))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def require_running(self):
        if self.proc is None:
            raise Failure("%s was not started" % self.name)
        if self.proc.poll() is not None:
            raise Failure("%s is not running (exit status %s); its log:\n%s"
                          % (self.name, self.proc.returncode, indent(self.log())))

    def ensure_running(self):
        if not self.running():
            if self.proc is not None:
                say("%s had exited (status %s); restarting it" % (self.name, self.proc.returncode))
            self.start()

    def kill9(self):
        code, _ = PROCS.stop(self.proc, signal.SIGKILL, timeout=10)
        return code

    def terminate(self, timeout=30):
        return PROCS.stop(self.proc, signal.SIGTERM, timeout=timeout)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_size(self):
        return os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0

    def log_since(self, offset):
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def spool_path(self, *parts):
        return os.path.join(self.spool, *parts)

    def series_state(self, study, series):
        """The spool folders that hold the series now: a subset of incoming queue work done rejected."""
        return [stage for stage in ("incoming", "queue", "work", "done", "rejected")
                if os.path.isdir(self.spool_path(stage, study, series))]

    def spool_listing(self):
        lines = []
        for dirpath, dirnames, filenames in os.walk(self.spool):
            dirnames.sort()
            rel = os.path.relpath(dirpath, self.spool)
            depth = 0 if rel == "." else rel.count(os.sep) + 1
            if depth > 3:
                continue
            lines.append(rel + "/ " + " ".join(sorted(filenames)[:6]) + (" ..." if len(filenames) > 6 else ""))
        return "\n".join(lines)


# ---- Orthanc ---------------------------------------------------------------------------------
class Orthanc:
    def __init__(self, name, binary, root, node_port):
        self.name = name
        self.binary = binary
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir, exist_ok=True)
        self.http_port = free_port()
        self.dicom_port = free_port()
        while self.dicom_port == self.http_port:
            self.dicom_port = free_port()
        self.config_path = os.path.join(self.dir, "orthanc.json")
        self.log_path = os.path.join(self.dir, "orthanc.log")
        self.proc = None
        self._datasets = {}
        storage = os.path.join(self.dir, "storage")
        shutil.rmtree(storage, ignore_errors=True)
        config = {
            "Name": "swinunetr-node-test-" + name,
            "StorageDirectory": storage, "IndexDirectory": storage,
            "StorageCompression": False,
            "HttpServerEnabled": True, "HttpPort": self.http_port,
            "RemoteAccessAllowed": False, "AuthenticationEnabled": False,
            "DicomServerEnabled": True, "DicomAet": ORTHANC_AET, "DicomPort": self.dicom_port,
            "DicomCheckCalledAet": False, "DicomAlwaysAllowStore": True, "DicomAlwaysAllowEcho": True,
            "DicomModalities": {"swu": [NODE_AET, "127.0.0.1", node_port]},
            "DicomScuTimeout": 30,
            "Plugins": [], "LuaScripts": [],
            "ConcurrentJobs": 2, "HttpThreadsCount": 10,
        }
        with open(self.config_path, "w") as f:
            json.dump(config, f, indent=2)

    def start(self, timeout=60):
        self.proc = PROCS.spawn([self.binary, self.config_path], self.log_path, cwd=self.dir)

        def ready():
            if self.proc.poll() is not None:
                raise Failure("Orthanc %s exited with status %s while starting; its log:\n%s"
                              % (self.name, self.proc.returncode, indent(open(self.log_path, errors="replace").read())))
            try:
                return self.get("/system") is not None and port_open(self.dicom_port)
            except (OSError, urllib.error.URLError):
                return False
        wait_for(ready, timeout, 0.25, what="Orthanc %s to answer on http %d" % (self.name, self.http_port))

    def stop(self):
        if self.proc is not None:
            PROCS.stop(self.proc, signal.SIGTERM, timeout=30)

    def request(self, method, path, body=None, content_type=None, timeout=60):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.http_port, path), data=body, method=method)
        if content_type:
            req.add_header("Content-Type", content_type)
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.read()

    def get(self, path):
        return json.loads(self.request("GET", path).decode())

    def post_json(self, path, obj, timeout=120):
        data = obj.encode() if isinstance(obj, str) else json.dumps(obj).encode()
        return json.loads(self.request("POST", path, data, "application/json", timeout=timeout).decode())

    def upload(self, path):
        with open(path, "rb") as f:
            return json.loads(self.request("POST", "/instances", f.read(), "application/dicom").decode())

    def lookup(self, uid, level):
        for hit in self.post_json("/tools/lookup", uid):
            if hit.get("Type") == level:
                return hit["ID"]
        return None

    def dataset(self, instance_id):
        if instance_id not in self._datasets:
            path = os.path.join(self.dir, "download-%s.dcm" % instance_id)
            with open(path, "wb") as f:
                f.write(self.request("GET", "/instances/%s/file" % instance_id))
            self._datasets[instance_id] = (path, pydicom.dcmread(path))
        return self._datasets[instance_id]

    def seg_series(self):
        """Every SEG series Orthanc holds: a list of its series objects (GET /series/<id>)."""
        ids = self.post_json("/tools/find", {"Level": "Series", "Query": {"Modality": "SEG"}})
        return [self.get("/series/%s" % i) for i in ids]

    def segs_for(self, source_series_uid):
        """[(instance id, orthanc study id, path, dataset)] of the SEGs that reference the series."""
        found = []
        for series in self.seg_series():
            for instance_id in series["Instances"]:
                path, ds = self.dataset(instance_id)
                refs = ds.get("ReferencedSeriesSequence") or []
                if any(r.get("SeriesInstanceUID") == source_series_uid for r in refs):
                    found.append((instance_id, series["ParentStudy"], path, ds))
        return found


# ---- test data --------------------------------------------------------------------------------
def ct5n_files():
    files = sorted(glob.glob(os.path.join(CT5N, "*")))
    if len(files) != 5:
        raise Failure("expected the 5 files of CT5N in %s, found %d" % (CT5N, len(files)))
    return files


def copy_with_new_uids(sources, out_dir, edit=None):
    """Copies the files with a new Study, Series, Frame of Reference and SOP Instance UID.
    edit(index, dataset) may change each one. Returns (study uid, series uid, [(path, sop uid)])."""
    os.makedirs(out_dir, exist_ok=True)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    written = []
    for i, src in enumerate(sources):
        ds = pydicom.dcmread(src)
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        if "FrameOfReferenceUID" in ds:
            ds.FrameOfReferenceUID = frame
        sop = generate_uid()
        ds.SOPInstanceUID = sop
        ds.file_meta.MediaStorageSOPInstanceUID = sop
        if edit:
            edit(i, ds)
        path = os.path.join(out_dir, "%02d.dcm" % i)
        ds.save_as(path, write_like_original=False)
        written.append((path, sop))
    return study, series, written


def dataset_offset(raw):
    """Where the data set starts in a Part 10 file (after the explicit VR LE file meta group)."""
    if raw[128:132] != b"DICM" or raw[132:136] != b"\x02\x00\x00\x00" or raw[136:138] != b"UL":
        raise Failure("not a Part 10 file with a (0002,0000) group length")
    (group_length,) = struct.unpack("<I", raw[140:144])
    return 144 + group_length


def pixel_data_offset(raw):
    """Where the (7FE0,0010) element starts in an explicit VR LE file (its tag bytes)."""
    pos = raw.rfind(b"\xe0\x7f\x10\x00OW")
    if pos < 0:
        pos = raw.rfind(b"\xe0\x7f\x10\x00OB")
    if pos < 0:
        raise Failure("no explicit VR (7FE0,0010) in the file")
    return pos


# ---- a minimal C-STORE SCU (for a data set no DCMTK tool will read) ---------------------------
def _ae(title):
    return title.encode("ascii").ljust(16, b" ")[:16]


def _item(item_type, payload):
    return struct.pack(">BBH", item_type, 0, len(payload)) + payload


def _pdu(pdu_type, payload):
    return struct.pack(">BBI", pdu_type, 0, len(payload)) + payload


def _implicit(group, element, value):
    if len(value) % 2:
        value += b"\0"
    return struct.pack("<HHI", group, element, len(value)) + value


def _recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the peer closed the connection")
        data += chunk
    return data


def _recv_pdu(sock):
    header = _recv_exact(sock, 6)
    pdu_type, _, length = struct.unpack(">BBI", header)
    return pdu_type, _recv_exact(sock, length)


def raw_cstore(port, sop_class, sop_instance, dataset_bytes, transfer_syntax, calling=ORTHANC_AET, called=NODE_AET,
               drop_after=None):
    """Sends dataset_bytes (already encoded in transfer_syntax, possibly broken) in one C-STORE.
    Returns a sentence saying how the peer answered; never raises for the peer's behaviour.
    drop_after=N: the connection is closed (no release, no abort) after N bytes of the data set."""
    pc_id = 1
    variable = _item(0x10, b"1.2.840.10008.3.1.1.1")
    variable += _item(0x20, bytes([pc_id, 0, 0, 0]) + _item(0x30, sop_class.encode()) + _item(0x40, transfer_syntax.encode()))
    variable += _item(0x50, _item(0x51, struct.pack(">I", 16384)) + _item(0x52, b"1.2.826.0.1.3680043.9.7433.1.1"))
    rq = struct.pack(">HH", 1, 0) + _ae(called) + _ae(calling) + b"\0" * 32 + variable
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(_pdu(0x01, rq))
            pdu_type, body = _recv_pdu(sock)
            if pdu_type == 0x03:
                return "association rejected (A-ASSOCIATE-RJ %s)" % body[1:4].hex()
            if pdu_type != 0x02:
                return "association answered by PDU type 0x%02x" % pdu_type
            pos, accepted, max_pdu = 68, False, 0
            while pos + 4 <= len(body):
                item_type, _, length = struct.unpack(">BBH", body[pos:pos + 4])
                payload = body[pos + 4:pos + 4 + length]
                if item_type == 0x21 and payload[0] == pc_id:
                    accepted = payload[2] == 0
                elif item_type == 0x50:
                    sub = 0
                    while sub + 4 <= len(payload):
                        st, _, sl = struct.unpack(">BBH", payload[sub:sub + 4])
                        if st == 0x51:
                            (max_pdu,) = struct.unpack(">I", payload[sub + 4:sub + 8])
                        sub += 4 + sl
                pos += 4 + length
            if not accepted:
                return "association accepted but the presentation context (%s) refused" % transfer_syntax
            fields = (_implicit(0x0000, 0x0002, sop_class.encode()) + _implicit(0x0000, 0x0100, struct.pack("<H", 1))
                      + _implicit(0x0000, 0x0110, struct.pack("<H", 1)) + _implicit(0x0000, 0x0700, struct.pack("<H", 0))
                      + _implicit(0x0000, 0x0800, struct.pack("<H", 0)) + _implicit(0x0000, 0x1000, sop_instance.encode()))
            command = _implicit(0x0000, 0x0000, struct.pack("<I", len(fields))) + fields
            sock.sendall(_pdu(0x04, struct.pack(">IBB", len(command) + 2, pc_id, 0x03) + command))
            chunk = min(max_pdu or 16384, 16384) - 6 - 100
            if drop_after is not None:
                dataset_bytes = dataset_bytes[:drop_after]
            for start in range(0, max(len(dataset_bytes), 1), chunk):
                piece = dataset_bytes[start:start + chunk]
                if drop_after is not None and start + chunk >= len(dataset_bytes):
                    sock.sendall(_pdu(0x04, struct.pack(">IBB", len(piece) + 2, pc_id, 0x00) + piece))
                    return "connection dropped after %d bytes of the data set" % len(dataset_bytes)
                last = start + chunk >= len(dataset_bytes)
                sock.sendall(_pdu(0x04, struct.pack(">IBB", len(piece) + 2, pc_id, 0x02 if last else 0x00) + piece))
            pdu_type, body = _recv_pdu(sock)
            if pdu_type == 0x07:
                return "association aborted by the peer after the data set (A-ABORT)"
            if pdu_type != 0x04:
                return "answered by PDU type 0x%02x" % pdu_type
            status = None
            cmd = body[6:]
            p = 0
            while p + 8 <= len(cmd):
                g, e, n = struct.unpack("<HHI", cmd[p:p + 8])
                if (g, e) == (0x0000, 0x0900):
                    (status,) = struct.unpack("<H", cmd[p + 8:p + 10])
                p += 8 + n
            try:
                sock.sendall(_pdu(0x05, b"\0" * 4))
                _recv_pdu(sock)
            except OSError:
                pass
            return "C-STORE-RSP status 0x%04x" % status if status is not None else "a P-DATA answer without a status"
    except (OSError, ConnectionError) as e:
        return "connection ended: %s" % e


# ---- the cases --------------------------------------------------------------------------------
class Test:
    def __init__(self, args):
        self.args = args
        self.cli = os.path.abspath(args.cli)
        self.weights = os.path.abspath(args.weights)
        self.work = os.path.abspath(args.work)
        for sub in ("orthanc-a", "orthanc-b", "node-a", "node-b", "data", "node-config"):
            shutil.rmtree(os.path.join(self.work, sub), ignore_errors=True)
        os.makedirs(self.work, exist_ok=True)
        self.data = os.path.join(self.work, "data")
        os.makedirs(self.data)
        self.node_port_a = free_port()
        self.node_port_b = free_port()
        self.orthanc_a = Orthanc("orthanc-a", args.orthanc, self.work, self.node_port_a)
        self.orthanc_b = Orthanc("orthanc-b", args.orthanc, self.work, self.node_port_b)
        self.node_a = Node("node-a", self.cli, self.work, self.node_config(
            self.node_port_a, "node-a", allowed=[{"ae_title": ORTHANC_AET, "host": "127.0.0.1", "port": self.orthanc_a.dicom_port}]))
        self.node_b = Node("node-b", self.cli, self.work, self.node_config(
            self.node_port_b, "node-b", allowed=[{"ae_title": ORTHANC_AET, "host": "127.0.0.1"}],
            destination={"ae_title": ORTHANC_AET, "host": "127.0.0.1", "port": self.orthanc_b.dicom_port}))
        self.seg_timeout = args.seg_timeout

    def node_config(self, port, name, allowed, destination=None):
        config = {
            "ae_title": NODE_AET, "port": port, "spool": os.path.join(self.work, name, "spool"),
            "weights": self.weights, "backend": "auto", "threads": self.args.threads,
            "series_timeout_s": SERIES_TIMEOUT_S, "allowed_callers": allowed,
            "retry_initial_s": 1, "retry_max_s": 2,
        }
        if destination:
            config["destination"] = destination
        return config

    # The SEG for a series, once Orthanc has it.
    def wait_seg(self, orthanc, series_uid, what, timeout=None):
        return wait_for(lambda: orthanc.segs_for(series_uid), timeout or self.seg_timeout, 0.5,
                        what="a SEG referencing %s in Orthanc (%s)" % (series_uid, what))

    def check_seg(self, path, ds, study_uid, series_uid, sop_uids):
        check(ds.get("Modality") == "SEG", "Modality is %r, not SEG" % ds.get("Modality"))
        check(ds.get("SOPClassUID") == SEG_STORAGE, "SOP Class UID %s is not Segmentation Storage" % ds.get("SOPClassUID"))
        check(ds.get("StudyInstanceUID") == study_uid,
              "the SEG's StudyInstanceUID %s is not the source's %s" % (ds.get("StudyInstanceUID"), study_uid))
        refs = ds.get("ReferencedSeriesSequence") or []
        check(len(refs) >= 1, "no ReferencedSeriesSequence")
        check(refs[0].get("SeriesInstanceUID") == series_uid, "ReferencedSeriesSequence[0].SeriesInstanceUID is %s, not %s"
              % (refs[0].get("SeriesInstanceUID"), series_uid))
        referenced = {r.ReferencedSOPInstanceUID for r in refs[0].get("ReferencedInstanceSequence") or []}
        check(referenced and referenced <= set(sop_uids),
              "ReferencedInstanceSequence names %d instances, %d of them not in the source series"
              % (len(referenced), len(referenced - set(sop_uids))))
        code, out = run_tool(["dciodvfy", path], timeout=60)
        errors = [line for line in out.splitlines() if line.startswith("Error")]
        check(not errors, "dciodvfy found errors in the SEG:\n" + indent("\n".join(errors)))
        say("SEG %s: dciodvfy without errors (%d warnings), references series %s (%d instances)"
            % (ds.SOPInstanceUID, sum(1 for line in out.splitlines() if line.startswith("Warning")), series_uid, len(referenced)))

    def send(self, port, files, aet=ORTHANC_AET):
        code, out = storescu(port, files, aet=aet)
        return code, out

    def require_echo(self, node):
        node.require_running()
        code, out = echoscu(node.port, ORTHANC_AET)
        check(code == 0, "echoscu -aet ORTHANC to %s failed (status %d):\n%s" % (node.name, code, indent(out)))

    # 0 ------------------------------------------------------------------------------------------
    def case_0(self):
        """config: an unknown key is refused with exit status 2, naming the key"""
        config = dict(self.node_a.config, port=free_port(), spool=os.path.join(self.work, "node-config", "spool"),
                      no_such_key_xyz=1)
        path = os.path.join(self.work, "node-config", "bad.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(config, f)
        log = os.path.join(self.work, "node-config", "bad.log")
        proc = PROCS.spawn([self.cli, "serve", "--config", path], log)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            PROCS.stop(proc, signal.SIGTERM, 10)
            raise Failure("serve with an unknown key still runs after 60 s")
        PROCS.stop(proc)
        out = open(log, errors="replace").read()
        say("exit status %d: %s" % (proc.returncode, out.strip().splitlines()[-1] if out.strip() else "(no output)"))
        check(proc.returncode == 2, "exit status %d, not 2; output:\n%s" % (proc.returncode, indent(out)))
        check("no_such_key_xyz" in out, "the message does not name the key no_such_key_xyz:\n" + indent(out))

    # 1 ------------------------------------------------------------------------------------------
    def case_1(self):
        """C-ECHO: ORTHANC is answered, INTRUDER is rejected (C-ECHO and C-STORE)"""
        node = self.node_a
        node.require_running()
        code, out = echoscu(node.port, ORTHANC_AET)
        check(code == 0, "echoscu -aet ORTHANC failed (status %d):\n%s" % (code, indent(out)))
        say("echoscu -aet ORTHANC: success")
        offset = node.log_size()
        code, out = echoscu(node.port, "INTRUDER")
        check(code != 0, "echoscu -aet INTRUDER succeeded; it must be rejected")
        check("Association Rejected" in out, "echoscu -aet INTRUDER failed without an A-ASSOCIATE-RJ:\n" + indent(out))
        say("echoscu -aet INTRUDER: %s" % " ".join(l.strip() for l in out.splitlines() if "Reject" in l or "Reason" in l)[:200])
        study, series, files = copy_with_new_uids(ct5n_files()[:2], os.path.join(self.data, "intruder"))
        code, out = self.send(node.port, [p for p, _ in files], aet="INTRUDER")
        check(code != 0, "storescu -aet INTRUDER succeeded; it must be rejected")
        time.sleep(0.5)
        check(not node.series_state(study, series), "the intruder's series is in the spool: %s" % node.series_state(study, series))
        say("storescu -aet INTRUDER: refused, nothing spooled")
        log = node.log_since(offset)
        check("INTRUDER" in log, "the node's log does not name the rejected caller INTRUDER:\n" + indent(log))
        node.require_running()

    # 2 ------------------------------------------------------------------------------------------
    def case_2(self):
        """Orthanc pushes CT5N to the node; a valid SEG comes back into the same study"""
        node, orthanc = self.node_a, self.orthanc_a
        node.require_running()
        files = ct5n_files()
        first = pydicom.dcmread(files[0], stop_before_pixels=True)
        study_uid, series_uid = first.StudyInstanceUID, first.SeriesInstanceUID
        sops = [pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID for f in files]
        ids = {orthanc.upload(f)["ParentSeries"] for f in files}
        check(len(ids) == 1, "the 5 files landed in %d Orthanc series" % len(ids))
        orthanc_series = ids.pop()
        orthanc_study = orthanc.get("/series/%s" % orthanc_series)["ParentStudy"]
        t0 = time.monotonic()
        answer = orthanc.post_json("/modalities/swu/store", {"Resources": [orthanc_series], "Synchronous": True}, timeout=180)
        failed = answer.get("FailedInstancesCount", 0) if isinstance(answer, dict) else 0
        check(not failed, "Orthanc's C-STORE to the node failed for %s instances: %s" % (failed, answer))
        say("Orthanc stored series %s on the node: %s" % (series_uid, json.dumps(answer)[:200]))
        segs = self.wait_seg(orthanc, series_uid, "pushed by Orthanc")
        say("SEG in Orthanc %.1f s after the push" % (time.monotonic() - t0))
        check(len(segs) == 1, "%d SEGs reference the series" % len(segs))
        instance_id, seg_study, path, ds = segs[0]
        check(seg_study == orthanc_study, "the SEG is in Orthanc study %s, not the source's %s (PatientID %r vs %r?)"
              % (seg_study, orthanc_study, ds.get("PatientID"), first.get("PatientID")))
        self.check_seg(path, ds, study_uid, series_uid, sops)
        sent = node.spool_path("sent", series_uid + ".seg.dcm")
        wait_for(lambda: os.path.exists(sent), 15, what="the spool's " + os.path.relpath(sent, node.spool))
        check(pydicom.dcmread(sent, stop_before_pixels=True).SOPInstanceUID == ds.SOPInstanceUID,
              "sent/%s.seg.dcm has another SOP Instance UID than the SEG Orthanc got" % series_uid)
        wait_for(lambda: "done" in node.series_state(study_uid, series_uid), 15,
                 what="done/<Study>/<Series>/ (the series is in %s)" % node.series_state(study_uid, series_uid))
        say("spool: sent/<Series>.seg.dcm and done/<Study>/<Series>/")

    # 3 ------------------------------------------------------------------------------------------
    def case_3(self):
        """CT5N JPEG-lossless (new UIDs) by storescu straight to the node: the SEG reaches Orthanc"""
        node, orthanc = self.node_a, self.orthanc_a
        node.require_running()
        study, series, plain = copy_with_new_uids(ct5n_files(), os.path.join(self.data, "jpeg-src"))
        out_dir = os.path.join(self.data, "jpeg")
        os.makedirs(out_dir)
        jpeg = []
        for path, _ in plain:
            dst = os.path.join(out_dir, os.path.basename(path))
            code, out = run_tool(["dcmcjpeg", "+e1", path, dst])
            check(code == 0, "dcmcjpeg +e1 %s failed:\n%s" % (path, indent(out)))
            ts = pydicom.dcmread(dst, stop_before_pixels=True).file_meta.TransferSyntaxUID
            check(ts == JPEG_LOSSLESS_SV1, "dcmcjpeg wrote transfer syntax %s" % ts)
            jpeg.append(dst)
        t0 = time.monotonic()
        # -xs: propose JPEG Lossless SV1 besides the uncompressed transfer syntaxes (by default
        # storescu proposes only uncompressed ones, and cannot decompress to send them)
        code, out = storescu(node.port, jpeg, propose=["-xs"])
        check(code == 0 and "Store Failed" not in out,
              "storescu -xs of the JPEG lossless series failed (status %d):\n%s" % (code, indent(out)))
        conversions = {l.split("Converting transfer syntax:", 1)[1].strip() for l in out.splitlines()
                       if "Converting transfer syntax:" in l}
        lossless = "JPEG Lossless, Non-hierarchical, 1st Order Prediction"
        check(conversions <= {"%s -> %s" % (lossless, lossless)},
              "the node did not take JPEG Lossless SV1 as it is; storescu converted: %s" % sorted(conversions))
        say("storescu -xs sent 5 JPEG Lossless SV1 (%s) instances as they are" % JPEG_LOSSLESS_SV1)
        segs = self.wait_seg(orthanc, series, "JPEG lossless by storescu")
        say("SEG in Orthanc %.1f s after the send" % (time.monotonic() - t0))
        check(len(segs) == 1, "%d SEGs reference the series" % len(segs))
        self.check_seg(segs[0][2], segs[0][3], study, series, [s for _, s in plain])

    # 3b -----------------------------------------------------------------------------------------
    def case_3b(self):
        """a JPEG 2000 lossless CT series (tests/data/dicom_j2k) by storescu: the SEG reaches Orthanc"""
        node, orthanc = self.node_a, self.orthanc_a
        node.require_running()
        folder = os.path.join(REPO, "tests", "data", "dicom_j2k")
        files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".dcm"))
        check(len(files) == 6, "tests/data/dicom_j2k holds %d slices, not 6" % len(files))
        first = pydicom.dcmread(files[0], stop_before_pixels=True)
        check(first.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.90", "the test series is not JPEG 2000 lossless")
        study, series = first.StudyInstanceUID, first.SeriesInstanceUID
        sops = [pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID for f in files]
        t0 = time.monotonic()
        # -xv: propose JPEG 2000 lossless (storescu cannot decompress it to send it otherwise)
        code, out = storescu(node.port, files, propose=["-xv"])
        check(code == 0 and "Store Failed" not in out,
              "storescu -xv of the JPEG 2000 series failed (status %d):\n%s" % (code, indent(out)))
        say("storescu -xv sent 6 JPEG 2000 lossless instances")
        segs = self.wait_seg(orthanc, series, "JPEG 2000 lossless by storescu")
        say("SEG in Orthanc %.1f s after the send" % (time.monotonic() - t0))
        check(len(segs) == 1, "%d SEGs reference the series" % len(segs))
        self.check_seg(segs[0][2], segs[0][3], study, series, sops)

    # 4 ------------------------------------------------------------------------------------------
    def case_4(self):
        """a non-CT series (MR) by storescu: no SEG, kept in rejected/, the node still serves"""
        node, orthanc = self.node_a, self.orthanc_a
        node.require_running()
        offset = node.log_size()
        study, series, files = copy_with_new_uids([MR_SMALL], os.path.join(self.data, "mr"))
        code, out = self.send(node.port, [p for p, _ in files])
        check(code == 0, "storescu of the MR failed (status %d):\n%s" % (code, indent(out)))
        reason = node.spool_path("rejected", study, series, "reason.txt")
        wait_for(lambda: os.path.exists(reason), SERIES_TIMEOUT_S + 60, what="rejected/<Study>/<Series>/reason.txt")
        say("rejected/%s/%s/reason.txt: %s" % (study[-12:], series[-12:], open(reason, errors="replace").read().strip()[:200]))
        time.sleep(SERIES_TIMEOUT_S + 3)
        check(not orthanc.segs_for(series), "a SEG for the MR series reached Orthanc")
        check(not os.path.exists(node.spool_path("outbox", series + ".seg.dcm")), "outbox/ holds a SEG for the MR")
        check(not os.path.exists(node.spool_path("sent", series + ".seg.dcm")), "sent/ holds a SEG for the MR")
        check(set(node.series_state(study, series)) == {"rejected"},
              "the MR series is in %s, not only rejected/" % node.series_state(study, series))
        self.require_echo(node)
        say("no SEG; echoscu still answered")
        log = node.log_since(offset)
        check(series in log, "the node's log does not name the rejected series %s:\n%s" % (series, indent(log)))

    # 5 ------------------------------------------------------------------------------------------
    def case_5(self):
        """destination down, then up: the SEG waits in outbox/, then arrives"""
        node, orthanc = self.node_b, self.orthanc_b
        check(not port_open(orthanc.dicom_port), "something listens on the destination's port %d already" % orthanc.dicom_port)
        node.start()
        study, series, files = copy_with_new_uids(ct5n_files(), os.path.join(self.data, "outbox"))
        code, out = self.send(node.port, [p for p, _ in files])
        check(code == 0, "storescu failed (status %d):\n%s" % (code, indent(out)))
        outbox = node.spool_path("outbox", series + ".seg.dcm")

        def outbox_seg():
            try:
                return pydicom.dcmread(outbox, stop_before_pixels=True)
            except (OSError, Exception):
                return None
        queued = wait_for(outbox_seg, self.seg_timeout, 0.2, what="outbox/<Series>.seg.dcm")
        say("outbox/%s.seg.dcm written (SOP Instance %s) while the destination is down" % (series[-12:], queued.SOPInstanceUID))
        sidecar = node.spool_path("outbox", series + ".seg.json")
        if not os.path.exists(sidecar):
            sidecar = node.spool_path("outbox", series + ".json")
        check(os.path.exists(sidecar), "no outbox/<Series>.seg.json (or .json) beside the SEG; outbox holds %s"
              % os.listdir(node.spool_path("outbox")))
        dest = json.load(open(sidecar))
        check(str(orthanc.dicom_port) in json.dumps(dest), "%s does not name the destination's port %d: %s"
              % (os.path.basename(sidecar), orthanc.dicom_port, dest))
        time.sleep(3)  # a retry or two against the closed port (retry_initial_s 1, retry_max_s 2)
        node.require_running()
        check(os.path.exists(outbox), "the SEG left outbox/ while the destination was down")
        orthanc.start()
        t0 = time.monotonic()
        segs = self.wait_seg(orthanc, series, "destination started late", timeout=60)
        say("SEG in Orthanc %.1f s after it started" % (time.monotonic() - t0))
        check(len(segs) == 1, "%d SEGs reference the series" % len(segs))
        check(segs[0][3].SOPInstanceUID == queued.SOPInstanceUID,
              "Orthanc got SOP Instance %s, outbox held %s" % (segs[0][3].SOPInstanceUID, queued.SOPInstanceUID))
        self.check_seg(segs[0][2], segs[0][3], study, series, [s for _, s in files])
        wait_for(lambda: os.path.exists(node.spool_path("sent", series + ".seg.dcm")) and not os.path.exists(outbox), 15,
                 what="the SEG to move from outbox/ to sent/")
        say("outbox/ -> sent/")

    # 5b -----------------------------------------------------------------------------------------
    def case_5b(self):
        """restart with a SEG in outbox/: the same SOP Instance is sent, once"""
        node, orthanc = self.node_b, self.orthanc_b
        orthanc.stop()
        check(not port_open(orthanc.dicom_port), "Orthanc B still listens on %d after it was stopped" % orthanc.dicom_port)
        node.ensure_running()
        study, series, files = copy_with_new_uids(ct5n_files(), os.path.join(self.data, "outbox-restart"))
        code, out = self.send(node.port, [p for p, _ in files])
        check(code == 0, "storescu failed (status %d):\n%s" % (code, indent(out)))
        outbox = node.spool_path("outbox", series + ".seg.dcm")

        def outbox_sop():
            try:
                return pydicom.dcmread(outbox, stop_before_pixels=True).SOPInstanceUID
            except Exception:
                return None
        before = wait_for(outbox_sop, self.seg_timeout, 0.2, what="outbox/<Series>.seg.dcm")
        time.sleep(1.5)  # at least one failed send
        node.kill9()
        say("kill -9 with outbox/%s.seg.dcm (SOP Instance %s) unsent" % (series[-12:], before))
        offset = node.log_size()
        node.start()
        time.sleep(SERIES_TIMEOUT_S + 2)
        node.require_running()
        check(outbox_sop() == before, "after the restart outbox/ holds SOP Instance %s, not %s" % (outbox_sop(), before))
        again = [l for l in node.log_since(offset).splitlines() if series in l and "job" in l]
        check(not again, "the series was segmented again after the restart:\n" + indent("\n".join(again)))
        orthanc.start()
        t0 = time.monotonic()
        self.wait_seg(orthanc, series, "outbox/ kept across a restart", timeout=60)
        say("SEG in Orthanc %.1f s after it started; waiting 5 s more for duplicates" % (time.monotonic() - t0))
        time.sleep(5)
        segs = orthanc.segs_for(series)
        check(len(segs) == 1, "%d SEGs for the series reached Orthanc (SOP Instance UIDs %s)"
              % (len(segs), [s[3].SOPInstanceUID for s in segs]))
        check(segs[0][3].SOPInstanceUID == before,
              "Orthanc got SOP Instance %s, outbox held %s before the restart" % (segs[0][3].SOPInstanceUID, before))
        self.check_seg(segs[0][2], segs[0][3], study, series, [s for _, s in files])
        wait_for(lambda: os.path.exists(node.spool_path("sent", series + ".seg.dcm")) and not os.path.exists(outbox), 15,
                 what="the SEG to move from outbox/ to sent/")

    # 6 ------------------------------------------------------------------------------------------
    def case_6(self):
        """kill -9 while a series is in work/, restart: exactly one SEG arrives"""
        node, orthanc = self.node_a, self.orthanc_a
        node.require_running()
        study, series, files = copy_with_new_uids(ct5n_files(), os.path.join(self.data, "kill9"))
        code, out = self.send(node.port, [p for p, _ in files])
        check(code == 0, "storescu failed (status %d):\n%s" % (code, indent(out)))
        work = node.spool_path("work", study, series)

        def work_busy():  # work/<Study>/<Series>/ exists and holds files
            try:
                return any(os.scandir(work))
            except OSError:
                return False
        wait_for(work_busy, SERIES_TIMEOUT_S + 60, 0.05, what="work/<Study>/<Series>/ to hold the series")
        node.kill9()
        say("kill -9 while work/ held %s; spool then:\n%s" % (node.series_state(study, series), indent(node.spool_listing(), 30)))
        check(not orthanc.segs_for(series), "a SEG arrived before the kill; the kill did not hit a job")
        node.start()
        t0 = time.monotonic()
        self.wait_seg(orthanc, series, "after the restart")
        say("SEG in Orthanc %.1f s after the restart; waiting 5 s more for duplicates" % (time.monotonic() - t0))
        time.sleep(5 + 2)  # + retry_max_s: a duplicate send would have happened by now
        segs = orthanc.segs_for(series)
        check(len(segs) == 1, "%d SEGs for the series reached Orthanc (SOP Instance UIDs %s)"
              % (len(segs), [s[3].SOPInstanceUID for s in segs]))
        self.check_seg(segs[0][2], segs[0][3], study, series, [s for _, s in files])
        check(not os.path.isdir(node.spool_path("work", study, series)), "the series is still in work/")
        # Orthanc keeps one copy per SOP Instance UID, so a second send of the same file would
        # not show there; the node's log says how often it sent (informational).
        sends = [l for l in node.log().splitlines() if series in l and "send" in l.lower()]
        say("the node's log has %d line(s) about sending this SEG%s" % (len(sends), (": " + sends[-1].strip()[:200]) if sends else ""))

    # 7 ------------------------------------------------------------------------------------------
    def bad_input(self, label, study, series, send, names_series=True):
        """send() delivers the input; then the node must run, answer, name it in its log and be done with it."""
        node = self.node_a
        node.ensure_running()
        offset = node.log_size()
        how = send()
        say("%s: %s" % (label, how))
        start = time.monotonic()

        def settled():
            state = node.series_state(study, series)
            if "done" in state or "rejected" in state:
                return state or True
            if not state and time.monotonic() - start > SERIES_TIMEOUT_S + 5:
                return ["never spooled"]
            return None
        state = wait_for(settled, SERIES_TIMEOUT_S + self.seg_timeout, 0.25)
        node.require_running()
        self.require_echo(node)
        log = node.log_since(offset)
        check(state, "%s: after %.0f s the series is still in %s" % (label, time.monotonic() - start, node.series_state(study, series)))
        reason = node.spool_path("rejected", study, series, "reason.txt")
        if "done" in state:
            say("%s: NOTE: the node segmented this input (a SEG for it is in outbox/ or sent/)" % label)
        say("%s: ended in %s%s; echoscu answered" % (label, "/".join(state),
            (" (reason.txt: %s)" % open(reason, errors="replace").read().strip()[:160]) if os.path.exists(reason) else ""))
        named = [line for line in log.splitlines() if series in line]
        if names_series:
            check(named, "%s: the node's log does not name the series %s; it logged:\n%s" % (label, series, indent(log)))
        elif not named:  # a data set that cannot be parsed: a line about the association or the store will do
            named = [line for line in log.splitlines() if line.strip() and not line.startswith("==== node_test")]
            check(named, "%s: the node logged nothing about it" % label)
        say("%s: log: %s" % (label, named[-1].strip()[:240]))

    def case_7(self):
        """bad inputs: truncated files, short pixel data, one slice, a missing slice; the node survives"""
        node = self.node_a
        node.ensure_running()
        src = ct5n_files()
        problems = []

        def attempt(label, fn):
            try:
                fn()
            except Failure as e:
                problems.append(str(e))
                say("FAILED: %s" % e)

        # (a) a file cut inside its pixel data: no DCMTK tool reads it, so it goes by a minimal SCU
        study_a, series_a, files = copy_with_new_uids(src[:1], os.path.join(self.data, "cut-in-pixels"))
        raw = open(files[0][0], "rb").read()
        cut = raw[:len(raw) - 200]
        open(files[0][0], "wb").write(cut)
        code, out = storescu(node.port, [files[0][0]])
        refusal = [l.strip() for l in out.splitlines() if "Bad DICOM file" in l or "premature end" in l]
        say("cut inside the pixel data: storescu %s" % ("refuses to send it: " + refusal[0] if refusal else
                                                         "sent it (status %d)" % code))
        attempt("cut inside the pixel data", lambda: self.bad_input(
            "cut inside the pixel data", study_a, series_a,
            lambda: "raw C-STORE of the cut data set, answered by: " + raw_cstore(node.port, CT_STORAGE, files[0][1],
                                                                     cut[dataset_offset(cut):], EXPLICIT_LE),
            names_series=False))

        # (b) a file cut just before its pixel data element: valid DICOM, no image
        study_b, series_b, files = copy_with_new_uids(src, os.path.join(self.data, "cut-before-pixels"))
        raw = open(files[2][0], "rb").read()
        open(files[2][0], "wb").write(raw[:pixel_data_offset(raw)])

        def send_b():
            code, out = storescu(node.port, [p for p, _ in files])
            return "storescu of 5 files, the middle one without pixel data: status %d" % code
        attempt("cut before the pixel data", lambda: self.bad_input("cut before the pixel data", study_b, series_b, send_b))

        # (c) pixel data shorter than Rows x Columns x 2 bytes, well encoded
        def shorten(i, ds):
            if i == 2:
                ds.PixelData = ds.PixelData[:len(ds.PixelData) // 2]
        study_c, series_c, files = copy_with_new_uids(src, os.path.join(self.data, "short-pixels"), shorten)

        def send_c():
            code, out = storescu(node.port, [p for p, _ in files])
            return "storescu of 5 files, the middle one with half its pixel data: status %d" % code
        attempt("short pixel data", lambda: self.bad_input("short pixel data", study_c, series_c, send_c))

        # (d) a single-slice CT series
        study_d, series_d, files = copy_with_new_uids(src[2:3], os.path.join(self.data, "one-slice"))

        def send_d():
            code, out = storescu(node.port, [p for p, _ in files])
            return "storescu of one CT slice: status %d" % code
        attempt("single slice", lambda: self.bad_input("single slice", study_d, series_d, send_d))

        # (e) the middle slice missing
        study_e, series_e, files = copy_with_new_uids(src[:2] + src[3:], os.path.join(self.data, "missing-slice"))

        def send_e():
            code, out = storescu(node.port, [p for p, _ in files])
            return "storescu of CT5N without its middle slice: status %d" % code
        attempt("missing slice", lambda: self.bad_input("missing slice", study_e, series_e, send_e))

        node.require_running()
        check(not problems, "%d of 5 bad inputs failed: %s" % (len(problems), "; ".join(p.splitlines()[0] for p in problems)))

    # 7b -----------------------------------------------------------------------------------------
    def case_7b(self):
        """an association dropped in the middle of an instance: what was stored stays, the rest is discarded"""
        node = self.node_a
        node.ensure_running()
        offset = node.log_size()
        study, series, files = copy_with_new_uids(ct5n_files(), os.path.join(self.data, "dropped"))
        code, out = storescu(node.port, [p for p, _ in files[:2]])
        check(code == 0, "storescu of the first two slices failed (status %d):\n%s" % (code, indent(out)))
        raw = open(files[2][0], "rb").read()
        data = raw[dataset_offset(raw):]
        answer = raw_cstore(node.port, CT_STORAGE, files[2][1], data, EXPLICIT_LE, drop_after=len(data) // 2)
        say("third slice: " + answer)
        wait_for(lambda: "receiving an instance failed" in node.log_since(offset), 30,
                 what="a log line for the instance cut off")
        check(not os.listdir(node.spool_path("tmp")), "the half-received instance is still in tmp/")
        self.require_echo(node)
        # The series completes with the two stored slices, and ends segmented or kept aside.
        wait_for(lambda: set(node.series_state(study, series)) & {"done", "rejected"}, SERIES_TIMEOUT_S + 90,
                 what="the two-slice series segmented or kept aside (it is in %s)" % node.series_state(study, series))
        kept = glob.glob(node.spool_path("*", study, series + "*", "instances", "*.dcm"))
        check(len(kept) == 2, "%d instances of the dropped association's series kept, not 2" % len(kept))
        say("two instances kept, the cut one discarded; the series ended in %s" % sorted(node.series_state(study, series)))

    # 8 ------------------------------------------------------------------------------------------
    def case_8(self):
        """SIGTERM stops each node with exit status 0"""
        problems = []
        for node in (self.node_a, self.node_b):
            if node.proc is None:
                continue  # never started in this run (its cases not selected)
            if not node.running():
                problems.append("%s is not running (status %s)" % (node.name, node.proc and node.proc.returncode))
                continue
            code, in_time = node.terminate(timeout=30)
            say("%s: SIGTERM -> exit status %s%s" % (node.name, code, "" if in_time else " (SIGKILL after 30 s)"))
            if not in_time:
                problems.append("%s did not stop within 30 s of SIGTERM" % node.name)
            elif code != 0:
                problems.append("%s exited with status %s after SIGTERM" % (node.name, code))
        check(not problems, "; ".join(problems))


CASES = ["0", "1", "2", "3", "3b", "4", "5", "5b", "6", "7", "7b", "8"]
NODE_A_CASES = ("1", "2", "3", "3b", "4", "6", "7", "7b")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", required=True, help="the swinunetr executable")
    ap.add_argument("--weights", required=True, help="model.pt for the node")
    ap.add_argument("--work", required=True, help="folder for the spools, Orthanc's storage and logs")
    ap.add_argument("--orthanc", default=shutil.which("Orthanc") or "/usr/sbin/Orthanc", help="the Orthanc executable")
    ap.add_argument("--threads", type=int, default=2, help="the node's threads (default 2)")
    ap.add_argument("--case", action="append", choices=CASES, help="run only these cases (repeatable)")
    ap.add_argument("--seg-timeout", type=float, default=120, help="seconds to wait for a SEG (default 120)")
    ap.add_argument("--timeout", type=float, default=560, help="the whole run's deadline in seconds (default 560)")
    args = ap.parse_args()

    missing = [t for t in ("storescu", "echoscu", "dcmcjpeg", "dciodvfy") if not shutil.which(t)]
    if not os.access(args.orthanc, os.X_OK):
        missing.append("Orthanc (%s)" % args.orthanc)
    for label, path in (("--cli", args.cli), ("--weights", args.weights), ("CT5N", CT5N), ("MR_small.dcm", MR_SMALL)):
        if not os.path.exists(path):
            missing.append("%s %s" % (label, path))
    if not missing:
        code, out = run_tool([args.cli, "serve", "--help"], timeout=60)
        if code != 0:
            missing.append("the serve command (%s serve --help exits %d)" % (args.cli, code))
    if missing:
        print("node_test: missing: %s (scripts/install-deps.sh installs dcmtk, orthanc and dicom3tools)" % ", ".join(missing))
        return 1

    def on_signal(signum, frame):
        raise Deadline("signal %d" % signum)

    def on_alarm(signum, frame):
        raise Deadline("the test's own deadline (--timeout %.0f s)" % args.timeout)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, args.timeout)

    results = []
    test = None
    try:
        test = Test(args)
        print("node_test: %s serve, weights %s, work %s" % (test.cli, test.weights, test.work), flush=True)
        wanted = args.case or CASES
        test.orthanc_a.start()
        print("node_test: Orthanc A on http %d / dicom %d; node A on %d, node B on %d (destination Orthanc B, dicom %d)"
              % (test.orthanc_a.http_port, test.orthanc_a.dicom_port, test.node_port_a, test.node_port_b,
                 test.orthanc_b.dicom_port), flush=True)
        node_start_error = None
        for number in wanted:
            fn = getattr(test, "case_" + number)
            print("case %s: %s" % (number, fn.__doc__), flush=True)
            t0 = time.monotonic()
            try:
                if number in NODE_A_CASES and not test.node_a.running() and node_start_error is None:
                    try:
                        test.node_a.start()
                    except Failure as e:
                        node_start_error = e
                if number in NODE_A_CASES and node_start_error is not None:
                    raise Failure("node A did not start: %s" % node_start_error)
                if number == "8" and test.node_a.proc is None and test.node_b.proc is None:
                    test.node_a.start()  # run alone: a node to stop
                fn()
                verdict = "PASS"
            except Skip as e:
                verdict = "SKIP"
                say("skipped: %s" % e)
            except Failure as e:
                verdict = "FAIL"
                say("FAIL: %s" % e)
            except Deadline:
                raise
            except Exception:
                verdict = "FAIL"
                say("FAIL: unexpected error:\n" + indent(traceback.format_exc()))
            if verdict == "FAIL":
                for node in (test.node_a, test.node_b):
                    if os.path.exists(node.log_path):
                        say("%s's log (last lines):\n%s" % (node.name, indent(node.log(), 25)))
            print("case %s: %s (%.1f s)" % (number, verdict, time.monotonic() - t0), flush=True)
            results.append((number, verdict))
    except Deadline as e:
        print("node_test: stopped by %s" % e, flush=True)
        results.append(("interrupted", "FAIL"))
    except Failure as e:
        print("node_test: FAIL: %s" % e, flush=True)
        results.append(("setup", "FAIL"))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        PROCS.stop_all()
    failed = [str(n) for n, v in results if v == "FAIL"]
    print("node_test: %s: %s" % ("FAIL" if failed else "PASS", " ".join("%s=%s" % r for r in results)), flush=True)
    if test is not None:
        print("node_test: logs in %s (node-*/serve.log, orthanc-*/orthanc.log)" % test.work)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
