#!/usr/bin/env python3
"""Reference implementation of the Plazo batch wire format v1, written from specs/ alone.

It produces specs/test-vectors/batch-v1.json, which the Swift test suite checks: if the Swift code
and this script disagree on a single byte, the tests fail. Requires PyNaCl (a libsodium binding):

    python3 -m venv .venv-vectors && .venv-vectors/bin/pip install pynacl
    .venv-vectors/bin/python specs/test-vectors/make_vectors.py > specs/test-vectors/batch-v1.json
"""
import json
import struct
import sys

import nacl.bindings as sodium
from nacl.public import PrivateKey, SealedBox
from nacl.signing import SigningKey


def h(b: bytes) -> str:
    return b.hex()


def key_id(public_key: bytes) -> bytes:
    return sodium.crypto_generichash_blake2b_salt_personal(public_key, digest_size=32)[:8]


def linkage_key_id(key: bytes) -> bytes:
    return sodium.crypto_generichash_blake2b_salt_personal(b"plazo-linkage-key-id", digest_size=32, key=key)[:8]


def normalise(raw: str) -> str:
    out, pending = [], False
    for ch in raw:
        c = ord(ch)
        if c < 0x20 or c > 0x7E:
            raise ValueError("non-ASCII")
        if "a" <= ch <= "z":
            ch = ch.upper()
        if ("A" <= ch <= "Z") or ("0" <= ch <= "9"):
            if pending and out:
                out.append("-")
            pending = False
            out.append(ch)
        else:
            pending = True
    s = "".join(out)
    if not s or len(s) > 128:
        raise ValueError("length")
    return s


def pseudonym(linkage_key: bytes, raw: str) -> bytes:
    msg = b"plazo-case-v1:" + normalise(raw).encode("ascii")
    return sodium.crypto_generichash_blake2b_salt_personal(msg, digest_size=16, key=linkage_key)


def day(y: int, m: int, d: int) -> int:
    import datetime
    return (datetime.date(y, m, d) - datetime.date(2000, 1, 1)).days


def record(p: bytes, etype, detail, dy, offence=0, age=0, sex=0, state=0, channel=0, agency=0, target=(0, 0, 0)) -> bytes:
    r = p + struct.pack("<BBHBBBBBBBBHH", etype, detail, dy, offence, age, sex, state, channel, agency,
                        target[0], target[1], target[2], 0)
    assert len(r) == 32
    return r


def header(agency_id, count, signing_key_id, batch_id, created_at, service_key_id) -> bytes:
    payload_length = 48 + 32 + 32 * count
    hd = (b"PLZB" + struct.pack("<HHII", 1, 0, agency_id, count) + signing_key_id + batch_id
          + struct.pack("<qI", created_at, payload_length) + service_key_id + struct.pack("<I", 0))
    assert len(hd) == 64
    return hd


def main() -> None:
    service_seed = bytes(range(32))
    agency_seed = bytes(range(100, 132))
    other_agency_seed = bytes(range(200, 232))
    linkage_key = bytes([0x5A] * 32)

    service = PrivateKey.from_seed(service_seed)  # crypto_box_seed_keypair
    service_pk = bytes(service.public_key)
    agency = SigningKey(agency_seed)  # crypto_sign_seed_keypair
    agency_pk = bytes(agency.verify_key)
    other = SigningKey(other_agency_seed)

    ids = ["cdmx/fids/00123-2024 ", "CDMX-FIDS-00123-2024", " CT 1234 / 99", "00123", "123", "jal.cib.2024.000103"]
    cases = [{"raw": r, "normalised": normalise(r), "pseudonym": h(pseudonym(linkage_key, r))} for r in ids]

    p1 = pseudonym(linkage_key, ids[0])
    p2 = pseudonym(linkage_key, ids[2])
    # (fields, record): codes per specs/events.md
    events = [
        dict(case=0, event=1, detail=0, day=day(2024, 1, 8), offence=4, age=3, sex=1, state=9, channel=1, agency=1),
        dict(case=0, event=3, detail=0, day=day(2024, 1, 15), agency=1),
        dict(case=0, event=10, detail=1, day=day(2024, 2, 2), agency=1),
        dict(case=0, event=2, detail=3, day=day(2024, 3, 20), agency=1),
        dict(case=0, event=5, detail=0, day=day(2024, 6, 3), agency=3),
        dict(case=0, event=9, detail=1, day=day(2025, 2, 14), agency=7),
        dict(case=2, event=1, detail=0, day=day(2024, 1, 22), offence=6, age=4, sex=2, state=32, channel=4, agency=1),
        dict(case=2, event=6, detail=1, day=day(2024, 6, 30), agency=1),
        dict(case=2, event=8, detail=2, day=day(2024, 9, 30), agency=1),
        dict(case=2, event=11, detail=0, day=day(2024, 10, 2), agency=1, target=(8, 2, day(2024, 9, 30))),
    ]
    pseudos = {0: p1, 2: p2}
    records = []
    for e in events:
        r = record(pseudos[e["case"]], e["event"], e["detail"], e["day"], e.get("offence", 0), e.get("age", 0),
                   e.get("sex", 0), e.get("state", 0), e.get("channel", 0), e.get("agency", 0), e.get("target", (0, 0, 0)))
        e["record"] = h(r)
        records.append(r)

    agency_id = 7
    batch_id = bytes(range(0xA0, 0xB0))
    created_at = 1_748_736_000  # 2025-06-01, after every event day
    hd = header(agency_id, len(records), key_id(agency_pk), batch_id, created_at, key_id(service_pk))
    inner = b"PLZP" + struct.pack("<I", agency_id) + batch_id + struct.pack("<II", len(records), 0)
    plaintext = inner + b"".join(records)
    sealed = SealedBox(service.public_key).encrypt(plaintext)  # crypto_box_seal
    assert len(sealed) == 48 + len(plaintext)
    signature = agency.sign(hd + sealed).signature  # crypto_sign_detached
    batch = hd + sealed + signature

    def flip(b: bytes, i: int) -> bytes:
        return b[:i] + bytes([b[i] ^ 0x01]) + b[i + 1:]

    def resign(b: bytes) -> bytes:
        body = b[:-64]
        return body + agency.sign(body).signature

    # A payload lifted into another agency's header, signed by that agency.
    other_hd = header(8, len(records), key_id(bytes(other.verify_key)), batch_id, created_at, key_id(service_pk))
    lifted = other_hd + sealed + other.sign(other_hd + sealed).signature
    # A correctly signed batch whose single record has an out-of-range offence code.
    bad_record = record(p1, 1, 0, day(2024, 1, 8), offence=42, agency=1)
    bad_inner = b"PLZP" + struct.pack("<I", agency_id) + batch_id + struct.pack("<II", 1, 0)
    bad_hd = header(agency_id, 1, key_id(agency_pk), batch_id, created_at, key_id(service_pk))
    bad_sealed = SealedBox(service.public_key).encrypt(bad_inner + bad_record)
    bad_batch = bad_hd + bad_sealed + agency.sign(bad_hd + bad_sealed).signature

    tampered = [
        {"name": "flipped byte in header (agency id)", "batch": h(flip(batch, 8)), "reason": "unknown_agency"},
        {"name": "flipped byte in header (created at)", "batch": h(flip(batch, 40)), "reason": "bad_signature"},
        {"name": "flipped byte in ciphertext", "batch": h(flip(batch, 200)), "reason": "bad_signature"},
        {"name": "flipped byte in signature", "batch": h(flip(batch, len(batch) - 1)), "reason": "bad_signature"},
        {"name": "bad magic", "batch": h(b"PLZX" + batch[4:]), "reason": "bad_magic"},
        {"name": "version 2", "batch": h(batch[:4] + struct.pack("<H", 2) + batch[6:]), "reason": "unsupported_version"},
        {"name": "truncated by one byte", "batch": h(batch[:-1]), "reason": "truncated"},
        {"name": "one extra byte", "batch": h(batch + b"\x00"), "reason": "length_mismatch"},
        {"name": "ciphertext flipped and re-signed by the agency", "batch": h(resign(flip(batch, 200))), "reason": "payload_open_failed"},
        {"name": "payload lifted into another agency's signed header", "batch": h(lifted), "reason": "payload_header_mismatch",
         "other_agency_id": 8, "other_agency_seed": h(other_agency_seed), "other_agency_public_key": h(bytes(other.verify_key))},
    ]

    out = {
        "format": "plazo batch v1",
        "note": "Generated by specs/test-vectors/make_vectors.py from specs/batch-format.md with PyNaCl (libsodium).",
        "keys": {
            "service_box_seed": h(service_seed),
            "service_box_public_key": h(service_pk),
            "service_box_secret_key": h(bytes(service)),
            "service_box_key_id": h(key_id(service_pk)),
            "agency_signing_seed": h(agency_seed),
            "agency_signing_public_key": h(agency_pk),
            "agency_signing_key_id": h(key_id(agency_pk)),
            "linkage_key": h(linkage_key),
            "linkage_key_id": h(linkage_key_id(linkage_key)),
        },
        "cases": cases,
        "events": events,
        "batch": {
            "agency_id": agency_id,
            "batch_id": h(batch_id),
            "created_at": created_at,
            "header": h(hd),
            "plaintext_payload": h(plaintext),
            "signature_over": "header || sealed payload",
            "batch": h(batch),
            "accepted_records": len(records),
        },
        "record_rejected_batch": {"batch": h(bad_batch), "rejected_index": 0, "reason": "code_out_of_range",
                                  "accepted_records": 0},
        "tampered": tampered,
    }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
