/* Reference for Benchmarks/compare.sh: libsodium's crypto_box_seal_open on the sealed payload
 * of a Plazo batch written by plazo-perf (FILE, FILE.pk, FILE.sk), nothing else. Prints one JSON
 * line: payload bytes and records opened per second.
 *
 * With FILE.agency.pk present, a second line times the whole cryptography a receiver must do
 * on the same bytes: the Ed25519 verification of the signature over header and ciphertext
 * (crypto_sign_verify_detached), then the opening. */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(*len);
    if (fread(buf, 1, *len, f) != *len) { perror("read"); exit(1); }
    fclose(f);
    return buf;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: sealopen BATCH [seconds]\n"); return 2; }
    if (sodium_init() < 0) return 1;
    char path[4096];
    size_t n, pkn, skn;
    unsigned char *batch = slurp(argv[1], &n);
    snprintf(path, sizeof path, "%s.pk", argv[1]);
    unsigned char *pk = slurp(path, &pkn);
    snprintf(path, sizeof path, "%s.sk", argv[1]);
    unsigned char *sk = slurp(path, &skn);
    uint32_t records, payload;
    memcpy(&records, batch + 12, 4);   /* little-endian hosts only, as the format */
    memcpy(&payload, batch + 48, 4);
    unsigned char *plain = malloc(payload);
    double budget = argc > 2 ? atof(argv[2]) : 3.0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long iterations = 0;
    double elapsed = 0;
    do {
        if (crypto_box_seal_open(plain, batch + 64, payload, pk, sk) != 0) { fprintf(stderr, "open failed\n"); return 1; }
        iterations++;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        elapsed = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    } while (elapsed < budget);
    printf("{\"metric\":\"libsodium_seal_open\",\"records_per_s\":%.1f,\"bytes_per_s\":%.1f,\"iterations\":%ld}\n",
           iterations * (double)records / elapsed, iterations * (double)payload / elapsed, iterations);

    snprintf(path, sizeof path, "%s.agency.pk", argv[1]);
    FILE *probe = fopen(path, "rb");
    if (!probe) return 0;
    fclose(probe);
    size_t apkn;
    unsigned char *agency_pk = slurp(path, &apkn);
    size_t signed_len = 64 + (size_t)payload;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    iterations = 0;
    do {
        if (crypto_sign_verify_detached(batch + signed_len, batch, signed_len, agency_pk) != 0) { fprintf(stderr, "bad signature\n"); return 1; }
        if (crypto_box_seal_open(plain, batch + 64, payload, pk, sk) != 0) { fprintf(stderr, "open failed\n"); return 1; }
        iterations++;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        elapsed = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    } while (elapsed < budget);
    printf("{\"metric\":\"libsodium_verify_open\",\"records_per_s\":%.1f,\"bytes_per_s\":%.1f,\"iterations\":%ld}\n",
           iterations * (double)records / elapsed, iterations * (double)payload / elapsed, iterations);
    return 0;
}
