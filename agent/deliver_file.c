/* deliver_to = file:DIR: the message and the report stored instead of sent, for demos and
 * for sites that hand reports to another system. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "deliver.h"
#include "fsutil.h"
#include "gz.h"
#include "mailmsg.h"
#include "msg.h"
#include "spool.h"

deliver_status deliver_file(agent_ctx *ctx, const mailmsg_report *r, const char *dir,
                            const char *uri, char *why, size_t whylen)
{
    char addr[MAILMSG_ADDR_MAX + 1], name[1024], path[4096];
    const char *to = NULL;
    unsigned char digest[32];

    if (strncasecmp(uri, "mailto:", 7) == 0) {
        if (mailmsg_mailto_addr(uri, addr, sizeof(addr)) < 0) {
            snprintf(why, whylen, "not a usable mailto: address");
            return DELIVER_PERMFAIL;
        }
        to = addr;
    } else if (strncasecmp(uri, "https:", 6) != 0) {
        snprintf(why, whylen, "unsupported URI scheme");
        return DELIVER_PERMFAIL;
    }
    /* The stored message is signed like a sent one, even when nobody loaded the key. */
    if (mailmsg_init(ctx->cfg, 0) < 0) {
        snprintf(why, whylen, "report_from or the DKIM settings are unusable (logged)");
        return DELIVER_TEMPFAIL;
    }
    vstring *m = vstring_alloc(0);
    if (mailmsg_build(ctx->cfg, r, to, time(NULL), m, why, whylen) < 0) {
        vstring_free(m);
        return DELIVER_PERMFAIL;
    }
    /* mailmsg_build checked the names, so the file name is safe as a path component. */
    mailmsg_filename(name, sizeof(name), r);
    vstring *gz = vstring_alloc(0);
    deliver_status st = DELIVER_OK;
    if (gz_compress(r->json, r->json_len, gz) < 0) {
        snprintf(why, whylen, "gzip failed");
        st = DELIVER_TEMPFAIL;
    } else if (fsutil_mkdirs(dir, 0755) < 0 ||
               (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
               fsutil_write_atomic(path, gz->data, gz->len, 0644) < 0) {
        snprintf(why, whylen, "%s: %s", dir, strerror(errno));
        st = DELIVER_TEMPFAIL;
    } else {
        /* One message per destination: the name ends in a tag of the URI. */
        EVP_Digest(uri, strlen(uri), digest, NULL, EVP_sha256(), NULL);
        size_t base = strlen(path) - strlen(".json.gz");
        if ((size_t)snprintf(path + base, sizeof(path) - base, ".%02x%02x%02x%02x.eml", digest[0],
                             digest[1], digest[2], digest[3]) >= sizeof(path) - base ||
            fsutil_write_atomic(path, m->data, m->len, 0644) < 0) {
            snprintf(why, whylen, "%s: %s", dir, strerror(errno));
            st = DELIVER_TEMPFAIL;
        } else {
            snprintf(why, whylen, "written to %s", path);
        }
    }
    vstring_free(gz);
    vstring_free(m);
    return st;
}
