// sp-deps: sp_gcs sp_curlx sp_buf sp_error sp_clock
/* test_gcs: the GCS client's pieces that need no server — service-account
 * keys (made at test time with `openssl genpkey`), the RS256 JWT of the
 * token request (its signature verified by `openssl dgst -verify` with the
 * key's public half, its claims decoded), the token cache's expiry rule,
 * and URL building.  The HTTP side is tested end to end in
 * tests/e2e/gcs.sh against tests/harness/gcs_server.py. */
#include "sp_test.h"

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "sp_gcs.h"

static char dir[] = "/tmp/sp_test_gcs.XXXXXX";

static int sh(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = malloc(1 << 20);
    size_t k = b ? fread(b, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (b)
        b[k] = '\0';
    if (n)
        *n = k;
    return b;
}

static int spit(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

/* key_json: a key file's JSON around the test key (token_uri may be NULL) */
static char *key_json(const char *token_uri)
{
    char path[256];
    snprintf(path, sizeof path, "%s/key.pem", dir);
    char *pem = slurp(path, NULL);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "type", "service_account", "client_email",
                          "w@p.iam.gserviceaccount.com", "private_key", pem ? pem : "",
                          "private_key_id", "kid1");
    if (token_uri)
        json_object_set_new(j, "token_uri", json_string(token_uri));
    char *s = json_dumps(j, 0);
    json_decref(j);
    free(pem);
    return s;
}

static int b64url_dec(const char *s, size_t n, unsigned char *out, size_t *outn)
{
    char tmp[4096];
    if (n + 4 > sizeof tmp)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        tmp[k++] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    size_t pad = (4 - k % 4) % 4;
    for (size_t i = 0; i < pad; i++)
        tmp[k++] = '=';
    int r = EVP_DecodeBlock(out, (unsigned char *)tmp, (int)k);
    if (r < 0)
        return -1;
    *outn = (size_t)r - pad;
    out[*outn] = '\0';
    return 0;
}

TEST(jwt_is_signed_rs256_and_verifies_with_the_public_half)
{
    char *js = key_json("http://127.0.0.1:9/token");
    sp_gcs_key k;
    sp_error e = SP_ERROR_INIT;
    CHECK_INT(sp_gcs_key_parse(js, "c", &k, &e), 0);
    CHECK_STR(k.client_email, "w@p.iam.gserviceaccount.com");
    CHECK_STR(k.token_uri, "http://127.0.0.1:9/token");
    sp_buf jwt = SP_BUF_INIT(1 << 16);
    CHECK_INT(sp_gcs_jwt(&k, SP_GCS_SCOPE, 1700000000, 3600, &jwt, &e), 0);
    const char *d1 = jwt.data ? strchr(jwt.data, '.') : NULL;
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    CHECK(d1 && d2 && !strchr(d2 + 1, '.'));
    if (d1 && d2) {
        unsigned char raw[4096];
        size_t n = 0;
        CHECK_INT(b64url_dec(jwt.data, (size_t)(d1 - jwt.data), raw, &n), 0);
        json_t *h = json_loadb((char *)raw, n, 0, NULL);
        CHECK_STR(json_string_value(json_object_get(h, "alg")), "RS256");
        CHECK_STR(json_string_value(json_object_get(h, "typ")), "JWT");
        CHECK_STR(json_string_value(json_object_get(h, "kid")), "kid1");
        json_decref(h);
        CHECK_INT(b64url_dec(d1 + 1, (size_t)(d2 - d1 - 1), raw, &n), 0);
        json_t *c = json_loadb((char *)raw, n, 0, NULL);
        CHECK_STR(json_string_value(json_object_get(c, "iss")), "w@p.iam.gserviceaccount.com");
        CHECK_STR(json_string_value(json_object_get(c, "aud")), "http://127.0.0.1:9/token");
        CHECK_STR(json_string_value(json_object_get(c, "scope")), SP_GCS_SCOPE);
        CHECK_INT(json_integer_value(json_object_get(c, "iat")), 1700000000);
        CHECK_INT(json_integer_value(json_object_get(c, "exp")), 1700003600);
        json_decref(c);
        /* the signature, checked by openssl's own tool with the public key */
        CHECK_INT(b64url_dec(d2 + 1, strlen(d2 + 1), raw, &n), 0);
        CHECK_INT(n, 256);
        char p1[256], p2[256], cmd[1024];
        snprintf(p1, sizeof p1, "%s/signed", dir);
        snprintf(p2, sizeof p2, "%s/sig", dir);
        CHECK_INT(spit(p1, jwt.data, (size_t)(d2 - jwt.data)), 0);
        CHECK_INT(spit(p2, raw, n), 0);
        snprintf(cmd, sizeof cmd,
                 "openssl dgst -sha256 -verify %s/key.pub -signature %s %s >/dev/null 2>&1",
                 dir, p2, p1);
        CHECK_INT(sh(cmd), 0);
        /* and a tampered payload does not verify */
        CHECK_INT(spit(p1, "x", 1), 0);
        CHECK_INT(sh(cmd) != 0, 1);
    }
    sp_buf_release(&jwt);
    sp_gcs_key_release(&k);
    free(js);
}

TEST(key_defaults_and_refusals_never_quote_the_key)
{
    sp_gcs_key k;
    sp_error e = SP_ERROR_INIT;
    char *js = key_json(NULL);
    CHECK_INT(sp_gcs_key_parse(js, "c", &k, &e), 0);
    CHECK_STR(k.token_uri, SP_GCS_DEFAULT_TOKEN_URI);
    sp_gcs_key_release(&k);
    free(js);
    static const struct { const char *json, *want; } bad[] = {
        { "not json", "connection 'c': GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON: not a JSON object "
                      "(expected the service account key file's content)" },
        { "{\"type\":\"authorized_user\"}", "connection 'c': "
          "GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON: type 'authorized_user' (expected "
          "service_account)" },
        { "{\"private_key\":\"-----BEGIN PRIVATE KEY-----\\nQUJD\\n-----END PRIVATE KEY-----\"}",
          "connection 'c': GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON: no client_email" },
        { "{\"client_email\":\"a@b\"}",
          "connection 'c': GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON: no private_key" },
        { "{\"client_email\":\"a@b\",\"private_key\":\"-----BEGIN PRIVATE KEY-----\\nQUJD\\n"
          "-----END PRIVATE KEY-----\"}", "connection 'c': "
          "GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON: private_key is not an RSA private key in PEM "
          "form" },
        { "{\"client_email\":\"a@b\",\"private_key\":\"x\",\"token_uri\":\"ftp://h/t\"}",
          "connection 'c': GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON: token_uri 'ftp://h/t' is not "
          "an http(s) URL" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sp_error_clear(&e);
        CHECK_INT(sp_gcs_key_parse(bad[i].json, "c", &k, &e), SP_EDEF);
        CHECK_STR(e.msg, bad[i].want);
        CHECK(!strstr(e.msg, "QUJD") && !strstr(e.msg, "PRIVATE"));
        sp_gcs_key_release(&k);
    }
}

TEST(token_cache_refreshes_a_tenth_of_the_life_early_at_most_five_minutes)
{
    /* 3600 s: used until 55 min (the margin caps at 300 s) */
    CHECK_INT(sp_gcs_token_usable(1000, 1000, 3600), 1);
    CHECK_INT(sp_gcs_token_usable(1000 + 3299999, 1000, 3600), 1);
    CHECK_INT(sp_gcs_token_usable(1000 + 3300000, 1000, 3600), 0);
    /* 10 s: a tenth, so 9 s */
    CHECK_INT(sp_gcs_token_usable(8999, 0, 10), 1);
    CHECK_INT(sp_gcs_token_usable(9000, 0, 10), 0);
    /* 1000 s: 900 s */
    CHECK_INT(sp_gcs_token_usable(899999, 0, 1000), 1);
    CHECK_INT(sp_gcs_token_usable(900000, 0, 1000), 0);
    /* nothing lives for 0 s; a clock before the token is not trusted */
    CHECK_INT(sp_gcs_token_usable(0, 0, 0), 0);
    CHECK_INT(sp_gcs_token_usable(5, 10, 3600), 0);
}

TEST(urls_and_uris)
{
    char *js = key_json(NULL);
    sp_gcs_conf c = { .conn_name = "lake", .bucket = "my-bucket", .endpoint = "http://h:1//",
                      .key_json = js };
    sp_gcs *g = NULL;
    sp_error e = SP_ERROR_INIT;
    CHECK_INT(sp_gcs_open(&c, &g, &e), 0);
    sp_buf u = SP_BUF_INIT(4096);
    if (g) {
        CHECK_INT(sp_gcs_url(g, SP_GCS_OBJECT, "a b/c+d.csv", "fields=name", &u, &e), 0);
        CHECK_STR(u.data, "http://h:1/storage/v1/b/my-bucket/o/a%20b%2Fc%2Bd.csv?fields=name");
        CHECK_INT(sp_gcs_url(g, SP_GCS_UPLOAD, NULL, "uploadType=multipart", &u, &e), 0);
        CHECK_STR(u.data, "http://h:1/upload/storage/v1/b/my-bucket/o?uploadType=multipart");
        CHECK_INT(sp_gcs_url(g, SP_GCS_BUCKET, NULL, NULL, &u, &e), 0);
        CHECK_STR(u.data, "http://h:1/storage/v1/b/my-bucket");
        char uri[256];
        sp_gcs_uri(g, "x/y.csv", uri, sizeof uri);
        CHECK_STR(uri, "gs://my-bucket/x/y.csv");
        /* the bearer token goes to the endpoint only (session URIs come from
         * the server): refused before any token is fetched */
        sp_gcs_req r = { .method = "PUT", .url = "http://evil:1/upload?upload_id=x",
                         .key = "x/y.csv" };
        CHECK_INT(sp_gcs_do(g, NULL, &r, &e), SP_ESINK);
        CHECK_STR(e.msg, "connection 'lake': gs://my-bucket/x/y.csv: the server sent an upload "
                         "URL outside GCS_ENDPOINT 'http://h:1'");
        sp_error_clear(&e);
        r.url = "http://h:10/upload"; /* a longer port is another host */
        CHECK_INT(sp_gcs_do(g, NULL, &r, &e), SP_ESINK);
        CHECK_INT(sp_gcs_token_count(g), 0);
    }
    sp_buf_release(&u);
    sp_gcs_free(g);
    sp_error_clear(&e);
    c.endpoint = "storage.googleapis.com";
    CHECK_INT(sp_gcs_open(&c, &g, &e), SP_EDEF);
    CHECK_STR(e.msg, "connection 'lake': GCS_ENDPOINT 'storage.googleapis.com': expected "
                     "http://host[:port] or https://host[:port]");
    free(js);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out %s/key.pem "
             "2>/dev/null && openssl pkey -in %s/key.pem -pubout -out %s/key.pub 2>/dev/null",
             dir, dir, dir);
    if (sh(cmd) != 0) {
        printf("not ok - openssl genpkey makes a test key\n");
        return 1;
    }
    RUN(jwt_is_signed_rs256_and_verifies_with_the_public_half);
    RUN(key_defaults_and_refusals_never_quote_the_key);
    RUN(token_cache_refreshes_a_tenth_of_the_life_early_at_most_five_minutes);
    RUN(urls_and_uris);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    sh(cmd);
    return sp_test_done();
}
