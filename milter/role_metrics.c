/*
 * Role "metrics": serves the Prometheus text exposition of the shared counters at /metrics
 * (metrics_listen). libmicrohttpd does the HTTP: a well-kept server that bounds
 * connections and their time, rather than a parser of outside input written here. A scrape
 * reads only the shared page, never another role, and this process is restarted like any
 * role while its listening socket, opened by the parent, stays.
 */
#include <microhttpd.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics.h"
#include "msg.h"
#include "roles.h"
#include "sockets.h"

#define METRICS_MAX_CONNECTIONS 16
#define METRICS_TIMEOUT         10 /* seconds a connection may stay idle */
#define METRICS_MAX_BODY        (1024 * 1024)
#define METRICS_CONTENT_TYPE    "text/plain; version=0.0.4; charset=utf-8"

static const char metrics_index[] =
    "<html><head><title>opentlsrpt</title></head>"
    "<body><h1>opentlsrpt</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

static int metrics_enabled(const config *cfg)
{
    return *cfg->metrics_listen != 0;
}

static int metrics_prepare(const config *cfg, const config *old, role_ctx *ctx)
{
    const char *spec = cfg->metrics_listen;
    int fd;

    if (old && ctx->nfds && strcmp(old->metrics_listen, spec) == 0)
        return 0;
    fd = sockets_listen("metrics_listen", spec, "", "", 0666);
    if (fd < 0)
        return -1;
    role_ctx_close(ctx);
    ctx->fds[0] = fd;
    ctx->nfds = 1;
    msg_info("metrics: listening on %s", spec);
    return 0;
}

static enum MHD_Result metrics_send(struct MHD_Connection *conn, unsigned int status,
                                    const char *type, const void *body, size_t len,
                                    enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, mode);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result metrics_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version, const char *upload,
                                      size_t *upload_size, void **state)
{
    static const char not_found[] = "Not found: see /metrics\n";
    static const char bad_method[] = "Only GET and HEAD\n";
    (void)cls;
    (void)version;
    (void)upload;

    /* First call: headers only. A body (there should be none) is read and ignored. */
    if (*state == NULL) {
        *state = (void *)1;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return metrics_send(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", bad_method,
                            sizeof(bad_method) - 1, MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/") == 0)
        return metrics_send(conn, MHD_HTTP_OK, "text/html", metrics_index,
                            sizeof(metrics_index) - 1, MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/metrics") != 0)
        return metrics_send(conn, MHD_HTTP_NOT_FOUND, "text/plain", not_found,
                            sizeof(not_found) - 1, MHD_RESPMEM_PERSISTENT);
    vstring *body = vstring_alloc(METRICS_MAX_BODY);
    metrics_format(metrics, body);
    enum MHD_Result r = metrics_send(conn, MHD_HTTP_OK, METRICS_CONTENT_TYPE, body->data, body->len,
                                     MHD_RESPMEM_MUST_COPY);
    vstring_free(body);
    return r;
}

static void metrics_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char text[256];
    (void)cls;

    vsnprintf(text, sizeof(text), fmt, ap);
    text[strcspn(text, "\n")] = 0;
    msg_warn("metrics: %s", text);
}

static int metrics_run(const config *cfg, role_ctx *ctx)
{
    (void)cfg;
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL,
        NULL, metrics_handle, NULL, MHD_OPTION_EXTERNAL_LOGGER, metrics_mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)ctx->fds[0], MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)METRICS_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)METRICS_TIMEOUT, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024,
        MHD_OPTION_END);

    if (d == NULL)
        msg_fatal("metrics: cannot start the HTTP server");
    while (!role_stop)
        usleep(200 * 1000); /* the signal may land in the server's thread */
    /* Stop accepting without closing the socket the parent keeps for the next process. */
    MHD_quiesce_daemon(d);
    MHD_stop_daemon(d);
    return 0;
}

const role_ops role_metrics = {
    .name = "metrics",
    .enabled = metrics_enabled,
    .prepare = metrics_prepare,
    .run = metrics_run,
};
