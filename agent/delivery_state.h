#ifndef OTR_DELIVERY_STATE_H
#define OTR_DELIVERY_STATE_H
/* The delivery state of a day as it is kept (see delivery_state.c). */
#include <json-c/json.h>
#include <stdint.h>
#include <time.h>

#include "agent.h"

#define DELIVERY_STATE_VERSION 1

/* Report and endpoint states as written in the state file. */
#define ST_PENDING    "pending"
#define ST_DELIVERED  "delivered"
#define ST_FAILED     "failed"     /* endpoint: permanent failure (5xx, refused URI) */
#define ST_GIVEN_UP   "given-up"   /* 24 hours of failures */
#define ST_NOT_NEEDED "not-needed" /* endpoint: another one accepted the report */
#define ST_NO_RECORD  "no-record"  /* report: the domain publishes no (usable) record */

/* Member key of parent as an object, created (replacing a non-object) when missing. */
json_object *delivery_state_obj(json_object *parent, const char *key);
/* Member key as an integer (0 when missing) / a string ("" when missing); set them. */
int64_t delivery_state_int(json_object *o, const char *key);
void delivery_state_set_int(json_object *o, const char *key, int64_t value);
const char *delivery_state_str(json_object *o, const char *key);
void delivery_state_set_str(json_object *o, const char *key, const char *value);
/* Whether member key is the string value. */
int delivery_state_is(json_object *o, const char *key, const char *value);
/* Marks (domain, uri) delivered at when in the state document st. */
void delivery_state_mark(json_object *st, const char *domain, const char *uri, int64_t when);
/* Closes the endpoints of a delivered domain that are still pending. */
void delivery_state_close_endpoints(json_object *dom);
/* The day's state with its log replayed (a new one when there is none); NULL after logging
 * when it cannot be read or is damaged. Caller json_object_put()s it. */
json_object *delivery_state_load(agent_ctx *ctx, const char *day);
/* Saves st whole (atomically) and empties the log; 0, or -1 after logging. */
int delivery_state_save(agent_ctx *ctx, const char *day, json_object *st);
/* Appends, durably, an acceptance / a failed attempt (uri and ep NULL for a failed DNS
 * lookup) to the day's log; 0, or -1 after logging. */
int delivery_state_log_accept(agent_ctx *ctx, const char *day, const char *domain, const char *uri,
                              time_t now);
int delivery_state_log_attempt(agent_ctx *ctx, const char *day, const char *domain,
                               json_object *dom, const char *uri, json_object *ep);
#endif
