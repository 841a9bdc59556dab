#ifndef OTR_DKIM_H
#define OTR_DKIM_H
/*
 * DKIM (RFC 6376) with OpenSSL: signing of outgoing reports (rsa-sha256 with keys of 2048
 * bits or more, ed25519-sha256 of RFC 8463; c=relaxed/relaxed; never l=) and verification
 * of received ones. Messages are complete RFC 5322 texts (header, empty line, body) with
 * CRLF line ends; verification also accepts bare LF, as messages read from files have.
 */
#include <stddef.h>
#include <time.h>

#include "vstring.h"

#define DKIM_SELECTOR_MAX 63
#define DKIM_SIG_MAX      8192 /* longest DKIM-Signature field accepted when verifying */
#define DKIM_KEYREC_MAX   4096 /* longest key record accepted */

typedef struct dkim_key dkim_key;

/* Loads a private key (RSA >= 2048 bits or Ed25519) from a PEM file; returns it (free with
 * dkim_key_free), or NULL with the reason in why. */
dkim_key *dkim_key_load(const char *path, char *why, size_t whylen);
/* Parses a PEM private key from memory, as dkim_key_load. */
dkim_key *dkim_key_parse(const void *pem, size_t len, char *why, size_t whylen);
dkim_key *dkim_key_free(dkim_key *key);
/* "rsa-sha256" or "ed25519-sha256". */
const char *dkim_key_algorithm(const dkim_key *key);
/* Appends the TXT record to publish at <selector>._domainkey.<domain>:
 * "v=DKIM1; k=rsa|ed25519; s=tlsrpt; p=...". */
void dkim_key_record(const dkim_key *key, vstring *out);

/* Canonicalization (RFC 6376 3.4), appending to out. A header field is its whole text from
 * the name to the end of its last line, without the final CRLF; the result has no CRLF. */
void dkim_canon_header_relaxed(const char *field, size_t len, vstring *out);
void dkim_canon_body_relaxed(const char *body, size_t len, vstring *out);
void dkim_canon_body_simple(const char *body, size_t len, vstring *out);
/* SHA-256 of the relaxed canonical body (the bh= of c=x/relaxed). */
void dkim_body_hash_relaxed(const char *body, size_t len, unsigned char hash[32]);

/* Signs msg for domain/selector at time now: appends to out the DKIM-Signature header field
 * (ending in CRLF) to put in front of msg. Returns 0, or -1 with why. */
int dkim_sign(const dkim_key *key, const char *domain, const char *selector, const char *msg,
              size_t len, time_t now, vstring *out, char *why, size_t whylen);

typedef enum {
    DKIM_PASS = 0,
    DKIM_FAIL,      /* body hash or signature does not match: altered in transit or forged */
    DKIM_PERMERROR, /* the signature or key record is malformed or unacceptable */
    DKIM_NONE,      /* no signature with that index */
} dkim_result;

/* Finds the index-th (from 0, top first) DKIM-Signature of msg and writes its d= (lower
 * case, a valid domain name) and s= (a valid selector) so the caller can look up the key at
 * <selector>._domainkey.<domain>. Returns DKIM_PASS, DKIM_NONE or DKIM_PERMERROR (why). */
dkim_result dkim_signature_info(const char *msg, size_t len, size_t index, char *domain,
                                size_t dsize, char *selector, size_t ssize, char *why,
                                size_t whylen);
/* Verifies the index-th DKIM-Signature of msg with keyrec (the TXT record, strings
 * concatenated). Accepts rsa-sha256 (keys of 1024 bits or more) and ed25519-sha256, simple
 * and relaxed canonicalization; refuses l= (a partial body proves nothing) and keys whose
 * s= excludes email and tlsrpt. why says what failed. */
dkim_result dkim_verify(const char *msg, size_t len, size_t index, const char *keyrec,
                        size_t keylen, char *why, size_t whylen);
/* "pass", "fail", "permerror", "none". */
const char *dkim_result_name(dkim_result r);
#endif
