/* Reference for Benchmarks/compare.sh: raw SQLite inserts of the same rows a store of accepted
 * events writes (pseudonym, record tail, agency, batch; Plazo's `case_event` table until store
 * version 2), into a WITHOUT ROWID table keyed by (pseudonym, record),
 * in one transaction, WAL journal and synchronous=FULL as Plazo uses. Rows come from the file
 * plazo-perf writes (36 bytes each: 32-byte record + u32 agency). Prints one JSON line. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* --batches FILE DBFILE: the other way to store the same events, as Plazo's store does: each
 * sealed batch (FILE holds u32 length + bytes, one after the other, as plazo-perf writes them)
 * inserted as one blob in its own transaction. Prints events (records) stored per second. */
static int store_batches(const char *path, const char *dbpath) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 1; }
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *all = malloc(n);
    if (fread(all, 1, n, f) != n) return 1;
    fclose(f);
    unlink(dbpath);
    sqlite3 *db;
    if (sqlite3_open(dbpath, &db) != SQLITE_OK) return 1;
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;", 0, 0, 0);
    sqlite3_exec(db, "CREATE TABLE batch (seq INTEGER PRIMARY KEY, bytes BLOB NOT NULL);", 0, 0, 0);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT INTO batch (bytes) VALUES (?)", -1, &st, 0);
    struct timespec t0, t1;
    size_t batches = 0, records = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t o = 0; o + 4 <= n;) {
        uint32_t len, count;
        memcpy(&len, all + o, 4);
        memcpy(&count, all + o + 4 + 12, 4);   /* record count at offset 12 of the header */
        sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0);
        sqlite3_bind_blob(st, 1, all + o + 4, (int)len, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) { fprintf(stderr, "%s\n", sqlite3_errmsg(db)); return 1; }
        sqlite3_reset(st);
        sqlite3_exec(db, "COMMIT", 0, 0, 0);
        batches++;
        records += count;
        o += 4 + len;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double elapsed = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"metric\":\"sqlite_store_batches\",\"batches\":%zu,\"rows\":%zu,\"seconds\":%.4f,\"rows_per_s\":%.1f}\n",
           batches, records, elapsed, records / elapsed);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "--batches") == 0) return store_batches(argv[2], argv[3]);
    if (argc < 3) { fprintf(stderr, "usage: sqlite_insert ROWS DBFILE [ROWS_PER_TRANSACTION] | --batches FILE DBFILE\n"); return 2; }
    /* Default: every row in one transaction (the comparison the report is about). With a third
     * argument, commit every N rows, as Plazo commits once per acknowledged batch. */
    size_t per = argc > 3 ? (size_t)atol(argv[3]) : 0;
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *rows = malloc(n);
    if (fread(rows, 1, n, f) != n) return 1;
    fclose(f);
    size_t count = n / 36;
    unlink(argv[2]);
    sqlite3 *db;
    if (sqlite3_open(argv[2], &db) != SQLITE_OK) return 1;
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;", 0, 0, 0);
    sqlite3_exec(db,
        "CREATE TABLE case_event (pseudonym BLOB NOT NULL, record BLOB NOT NULL, agency_id INTEGER NOT NULL,"
        " batch_seq INTEGER NOT NULL, PRIMARY KEY (pseudonym, record)) WITHOUT ROWID;", 0, 0, 0);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO case_event VALUES (?, ?, ?, ?)", -1, &st, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0);
    for (size_t i = 0; i < count; i++) {
        const unsigned char *r = rows + 36 * i;
        uint32_t agency;
        memcpy(&agency, r + 32, 4);
        sqlite3_bind_blob(st, 1, r, 16, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, r + 16, 16, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, agency);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)(i / 10000 + 1));
        if (sqlite3_step(st) != SQLITE_DONE) { fprintf(stderr, "%s\n", sqlite3_errmsg(db)); return 1; }
        sqlite3_reset(st);
        if (per && (i + 1) % per == 0 && i + 1 < count) {
            sqlite3_exec(db, "COMMIT", 0, 0, 0);
            sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0);
        }
    }
    sqlite3_exec(db, "COMMIT", 0, 0, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double elapsed = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"metric\":\"sqlite_insert\",\"rows_per_transaction\":%zu,\"rows\":%zu,\"seconds\":%.4f,\"rows_per_s\":%.1f}\n",
           per ? per : count, count, elapsed, count / elapsed);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}
