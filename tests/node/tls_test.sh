#!/usr/bin/env bash
# swinunetr serve over DICOM TLS (dcmtls): a CA and certificates made here with openssl;
# plain connections and untrusted certificates are refused, a CT series stored over TLS
# comes back as a SEG over TLS to a TLS storescp.
#   tls_test.sh CLI WEIGHTS CT_SERIES_DIR WORK
set -euo pipefail
cli=$1 weights=$2 series=$3 work=$4
rm -rf "$work" && mkdir -p "$work/recv" && cd "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "---- node log"; cat node.log; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=swu-test-ca" 2>/dev/null
for n in node client; do
  openssl req -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr -subj "/CN=$n" 2>/dev/null
  openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $n.crt -days 2 2>/dev/null
done
openssl req -x509 -newkey rsa:2048 -nodes -keyout stranger.key -out stranger.crt -days 2 -subj "/CN=stranger" 2>/dev/null

node_port=$(free_port) recv_port=$(free_port)
cat > node.json <<JSON
{"ae_title": "SWU", "port": $node_port, "spool": "$work/spool", "weights": "$weights", "threads": 2,
 "series_timeout_s": 2, "retry_initial_s": 1, "retry_max_s": 2,
 "allowed_callers": [{"ae_title": "STORESCU", "host": "127.0.0.1"}, {"ae_title": "ECHOSCU", "host": "127.0.0.1"}],
 "destination": {"ae_title": "RECV", "host": "127.0.0.1", "port": $recv_port},
 "tls": {"certificate": "$work/node.crt", "private_key": "$work/node.key", "trusted_certificates": ["$work/ca.crt"]}}
JSON
"$cli" serve --config node.json > node.log 2>&1 & pids+=($!)
storescp +tls client.key client.crt +cf ca.crt -aet RECV -od "$work/recv" "$recv_port" > storescp.log 2>&1 & pids+=($!)
for _ in $(seq 50); do grep -q "listening as SWU" node.log && break; sleep 0.2; done
grep -q "(TLS only)" node.log || fail "the node does not say it listens with TLS"

if echoscu -to 5 -aec SWU 127.0.0.1 "$node_port" 2>/dev/null; then fail "a plain connection was accepted"; fi
echo "PASS plain C-ECHO refused"
echoscu -to 5 +tls client.key client.crt +cf ca.crt -aec SWU 127.0.0.1 "$node_port" || fail "C-ECHO over TLS"
echo "PASS C-ECHO over TLS"
if echoscu -to 5 +tls stranger.key stranger.crt +cf ca.crt -aec SWU 127.0.0.1 "$node_port" 2>/dev/null; then
  fail "a certificate no trusted CA signed was accepted"
fi
echo "PASS untrusted client certificate refused"
storescu +tls client.key client.crt +cf ca.crt -aec SWU 127.0.0.1 "$node_port" "$series"/* || fail "C-STORE over TLS"
for _ in $(seq 120); do [ -n "$(ls recv)" ] && break; sleep 0.5; done
[ -n "$(ls recv)" ] || fail "no SEG arrived at the TLS storescp"
grep -q "send .* ok" node.log || fail "the node did not log the send"
echo "PASS SEG sent back over TLS: $(ls recv)"
