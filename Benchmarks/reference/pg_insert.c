/* Reference for Benchmarks/compare.sh: PostgreSQL's own inserts of the same sealed batches Plazo
 * stores, through libpq. FILE holds u32 length + bytes per batch, as `plazo-perf ingest-durable
 * --write-batches` writes them. Each batch is inserted as one bytea, in its own transaction
 * (autocommit), with a binary parameter: what a durable, acknowledged store of each batch costs the
 * database itself, with the server's synchronous_commit and fsync as configured.
 *
 *   pg_insert FILE 'postgres://…'        prints one JSON line
 *
 * The table is created (and dropped first) in the database named by the URL. */
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: pg_insert FILE URL\n"); return 2; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *all = malloc(n);
    if (fread(all, 1, n, f) != n) return 1;
    fclose(f);
    PGconn *c = PQconnectdb(argv[2]);
    if (PQstatus(c) != CONNECTION_OK) { fprintf(stderr, "%s", PQerrorMessage(c)); return 1; }
    PQclear(PQexec(c, "DROP TABLE IF EXISTS reference_batch"));
    PGresult *r = PQexec(c, "CREATE TABLE reference_batch (seq BIGSERIAL PRIMARY KEY, bytes BYTEA NOT NULL)");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) { fprintf(stderr, "%s", PQerrorMessage(c)); return 1; }
    PQclear(r);
    r = PQprepare(c, "ins", "INSERT INTO reference_batch (bytes) VALUES ($1)", 1, NULL);
    PQclear(r);
    struct timespec t0, t1;
    size_t batches = 0, records = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t o = 0; o + 4 <= n;) {
        uint32_t len, count;
        memcpy(&len, all + o, 4);
        memcpy(&count, all + o + 4 + 12, 4);   /* record count at offset 12 of the header */
        const char *values[1] = {(const char *)(all + o + 4)};
        int lengths[1] = {(int)len};
        int formats[1] = {1};
        r = PQexecPrepared(c, "ins", 1, values, lengths, formats, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) { fprintf(stderr, "%s", PQerrorMessage(c)); return 1; }
        PQclear(r);
        batches++;
        records += count;
        o += 4 + len;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double elapsed = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"metric\": \"postgres_insert_batches\", \"tool\": \"libpq\", \"batches\": %zu, \"events\": %zu, \"seconds\": %.6f, \"events_per_s\": %.1f, \"batches_per_s\": %.1f}\n",
           batches, records, elapsed, records / elapsed, batches / elapsed);
    PQclear(PQexec(c, "DROP TABLE reference_batch"));
    PQfinish(c);
    return 0;
}
