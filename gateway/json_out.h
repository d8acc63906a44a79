/*
 * json_out.h: compact JSON written in document order, straight into a
 * buffer, for a document whose shape the code knows (the $summary Bundle
 * and its Composition), where a cJSON tree would be built only to be
 * printed and freed.  A tree the document holds (a mapped resource) is
 * written in place with gw_json_write.
 *
 * The text is byte for byte what gw_json_write prints for a tree of the
 * same members in the same order: keys are string literals, written with
 * their quotes and colon as one constant (GW_JOUT_KEY pastes "" to them,
 * so anything but a literal fails to compile, and a literal FHIR element
 * name needs no escape); string values are escaped by gw_json_write_string.
 *
 * The writer holds no stack: nesting is the caller's code, and a comma is
 * owed after any value until a container opens.  unit.json_out checks
 * documents written both ways against each other.
 */
#ifndef GW_JSON_OUT_H
#define GW_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "gateway/json_write.h"

struct gw_jout {
	struct gw_jbuf *b; /* borrowed; the text goes to its end */
	bool comma;	   /* a value ended: the next member or element
			      needs a comma first */
};

/* A member's key: `text` is `"name":` (GW_JOUT_KEY builds it). */
void gw_jout_key_text(struct gw_jout *o, const char *text, size_t n);
#define GW_JOUT_KEY(o, key)                                                    \
	gw_jout_key_text((o), "\"" key "\":", sizeof("\"" key "\":") - 1)

/* Values: after a key, or as an array's elements. */
void gw_jout_object(struct gw_jout *o);
void gw_jout_array(struct gw_jout *o);
void gw_jout_end_object(struct gw_jout *o);
void gw_jout_end_array(struct gw_jout *o);
void gw_jout_string(struct gw_jout *o, const char *s);
/* The tree item, as gw_json_write prints it (borrowed). */
void gw_jout_tree(struct gw_jout *o, const cJSON *item);

/* Members under literal keys. */
#define GW_JOUT_STRING(o, key, s)                                              \
	(GW_JOUT_KEY(o, key), gw_jout_string((o), (s)))
#define GW_JOUT_OBJECT(o, key) (GW_JOUT_KEY(o, key), gw_jout_object(o))
#define GW_JOUT_ARRAY(o, key) (GW_JOUT_KEY(o, key), gw_jout_array(o))

#endif
