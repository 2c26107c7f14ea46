#!/usr/bin/env bash
# The README's "run the main job" command. Installs what the build needs, builds plazo, and
# walks an agency's path on the committed sample export: keys, de-identify + seal, and the
# service opening the batch. Work files go to ./plazo-demo/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
swift build --product plazo
PLAZO="$(swift build --show-bin-path)/plazo"
WORK=plazo-demo
rm -rf "$WORK"
mkdir -p "$WORK"
step() { printf '\n== %s\n' "$*"; }

step "the service creates its keys"
"$PLAZO" keys service --out "$WORK/service"
step "an agency (police cyber unit) creates its signing key"
"$PLAZO" keys agency --out "$WORK/police"
step "the jurisdiction's agencies share one linkage key (the service never sees it)"
"$PLAZO" keys linkage --out "$WORK/police/linkage.key"

step "the agency validates its export without writing anything (--dry-run)"
"$PLAZO" seal docs/examples/police-export.csv --dry-run --agency-id 1 --agency-type police_cyber_unit \
    --signing-key "$WORK/police/agency-signing.secret" --service-key "$WORK/service/service-box.public" \
    --linkage-key "$WORK/police/linkage.key" || [ $? -eq 3 ]

step "the agency de-identifies, seals and signs it (invalid rows are reported and left out: exit status 3)"
"$PLAZO" seal docs/examples/police-export.csv --agency-id 1 --agency-type police_cyber_unit \
    --signing-key "$WORK/police/agency-signing.secret" --service-key "$WORK/service/service-box.public" \
    --linkage-key "$WORK/police/linkage.key" --out "$WORK/outbox" || [ $? -eq 3 ]

step "what crosses the network: a cleartext header, ciphertext and a signature"
od -A d -t x1 "$WORK"/outbox/*.plzb | head -5 || true

step "the service verifies and opens the batch (first 4 records)"
"$PLAZO" open "$WORK"/outbox/police-export-0001.plzb --service-key "$WORK/service/service-box.secret" \
    --agency-key "$WORK/police/agency-signing.public" | head -5 || true

step "a flipped byte is refused with a machine-readable reason"
cp "$WORK"/outbox/police-export-0001.plzb "$WORK/tampered.plzb"
printf '\xff' | dd of="$WORK/tampered.plzb" bs=1 seek=100 conv=notrunc status=none
"$PLAZO" open "$WORK/tampered.plzb" --service-key "$WORK/service/service-box.secret" \
    --agency-key "$WORK/police/agency-signing.public" || echo "(refused, exit status $?)"
