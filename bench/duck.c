/* duck: run SQL statements on a DuckDB database file through the same
 * libduckdb sinkpipe uses (for populating benchmark data and for DuckDB's
 * own COPY … TO as the peer).  Usage: duck DBFILE SQL [SQL…] */
#include <stdio.h>

#include "duckdb.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: duck DBFILE SQL [SQL...]\n");
        return 2;
    }
    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(argv[1], &db) != DuckDBSuccess) {
        fprintf(stderr, "duck: cannot open %s\n", argv[1]);
        return 1;
    }
    if (duckdb_connect(db, &con) != DuckDBSuccess) {
        fprintf(stderr, "duck: cannot connect\n");
        return 1;
    }
    int rc = 0;
    for (int i = 2; i < argc && !rc; i++) {
        duckdb_result res;
        if (duckdb_query(con, argv[i], &res) != DuckDBSuccess) {
            fprintf(stderr, "duck: %s\n", duckdb_result_error(&res));
            rc = 1;
        }
        duckdb_destroy_result(&res);
    }
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return rc;
}
