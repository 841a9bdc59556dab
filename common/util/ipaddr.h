#ifndef OTR_IPADDR_H
#define OTR_IPADDR_H
/* IP address classification for the HTTPS clients (report delivery, MTA-STS fetch). */

/* Whether the textual address is loopback, unspecified, private, shared (100.64/10),
 * link-local, site-local, unique-local or multicast, or not an address at all: places a
 * name published by a stranger must not make us connect to (https_allow_private). */
int ipaddr_is_private(const char *text);
#endif
