#ifndef OTR_SMTPS_BRIDGE_H
#define OTR_SMTPS_BRIDGE_H
/* smtp_tls = smtps (implicit TLS, port 465): libESMTP speaks only plain SMTP or STARTTLS,
 * so for one session it talks plain SMTP to a bridge on 127.0.0.1 whose thread carries the
 * bytes over a TLS connection to the relay. */
#include <stddef.h>

#include <openssl/ssl.h>

typedef struct smtps_bridge smtps_bridge;

/* Listens on 127.0.0.1 and starts the thread that, once libESMTP connects, connects to
 * host:port with TLS through ctx (which does the certificate checks). Writes the address
 * for smtp_set_server ("127.0.0.1:PORT") into addr. Returns the bridge (end it with
 * smtps_bridge_finish), or NULL with why. */
smtps_bridge *smtps_bridge_start(const char *host, const char *port, SSL_CTX *ctx, int timeout_ms,
                                 char *addr, size_t addrsize, char *why, size_t whylen);
/* Waits for the thread (the session is over or the bridge gave up), frees everything, and
 * returns the bridge's own problem (connection, TLS, certificate) in why, or "" if none. */
void smtps_bridge_finish(smtps_bridge *b, char *why, size_t whylen);
#endif
