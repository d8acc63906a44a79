/*
 * json_out.h: JSON written in document order, by code that knows the
 * shape it writes (a resource's builder, the $summary Bundle), either as
 * compact text straight into a buffer or as a cJSON tree, from the same
 * calls; text written before (a resource held for a consent decision) is
 * copied in with gw_jout_raw.
 *
 * Text is what an answer needs: no tree is built only to be printed and
 * freed.  A tree is what code that reads a resource back needs (search
 * filters, export's pseudonymisation, the unit tests).  The text is byte
 * for byte what gw_json_write prints for the tree the same calls build.
 *
 * Keys are string literals, written with their quotes and colon as one
 * constant (GW_JOUT_KEY pastes "" to them, so anything but a literal fails
 * to compile, and a literal FHIR element name needs no escape); string
 * values are escaped by gw_json_write_string.  The text writer holds no
 * stack: nesting is the caller's code, and a comma is owed after any value
 * until a container opens.  unit.json_write checks both writers against
 * gw_json_write on random trees.
 */
#ifndef GW_JSON_OUT_H
#define GW_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gateway/json_write.h"

/* Containers a tree may have open at once (a resource nests 6 deep). */
#define GW_JOUT_DEPTH 16

struct gw_jout {
	struct gw_jbuf *b; /* text: borrowed, written at its end; NULL: tree */
	bool comma;	   /* text: a value ended, the next member or element
			      needs a comma first */
	/* Tree: the first value written (caller frees), the containers not
	 * yet closed, and the key of the next member (a literal). */
	cJSON *root;
	cJSON *open[GW_JOUT_DEPTH];
	int depth;
	const char *key;
};

/* A writer of text at b's end, or of a tree (gw_jout_take_tree). */
static inline struct gw_jout
gw_jout_text(struct gw_jbuf *b)
{
	return (struct gw_jout){ .b = b };
}

static inline struct gw_jout
gw_jout_tree_builder(void)
{
	return (struct gw_jout){ .b = NULL };
}

/* The tree written (caller frees), leaving o empty; NULL if none. */
cJSON *gw_jout_take_tree(struct gw_jout *o);

/* Where o is, to go back to if what follows must not be written. */
struct gw_jout_mark {
	size_t len;
	bool comma;
	int depth;
	bool had_root;
};
struct gw_jout_mark gw_jout_mark(const struct gw_jout *o);
/* Undo everything written since mark m: text is cut back; a tree loses
 * what was added (only a whole top-level value, which a tree writer's
 * callers undo: a mark inside a tree is not supported and aborts). */
void gw_jout_rollback(struct gw_jout *o, struct gw_jout_mark m);

/* A tree writer's halves of the calls below (json_out.c). */
void gw_jout_tree_key(struct gw_jout *o, const char *name);
void gw_jout_tree_open(struct gw_jout *o, bool object);
void gw_jout_tree_close(struct gw_jout *o);
void gw_jout_tree_string(struct gw_jout *o, const char *s);

/*
 * The text writer's calls are inline: a $summary makes about 4,000 of
 * them, and a key's length is a constant once GW_JOUT_KEY's call is
 * inlined, so that it is copied by a few moves.
 */

/* Text: room for n more bytes and the comma owed, then the comma. */
static inline void
gw_jout_separate_(struct gw_jout *o, size_t n)
{
	gw_jbuf_reserve(o->b, n + 1);
	if (o->comma)
		o->b->p[o->b->len++] = ',';
}

static inline void
gw_jout_char_(struct gw_jout *o, char c)
{
	o->b->p[o->b->len++] = c;
	o->b->p[o->b->len] = '\0';
}

/* A member's key: `text` is `"name":` and `name` the bare literal
 * (GW_JOUT_KEY gives both). */
static inline void
gw_jout_key(struct gw_jout *o, const char *text, size_t n, const char *name)
{
	if (o->b == NULL) {
		gw_jout_tree_key(o, name);
		return;
	}
	gw_jout_separate_(o, n);
	memcpy(o->b->p + o->b->len, text, n);
	o->b->len += n;
	o->b->p[o->b->len] = '\0';
	o->comma = false; /* the member's value follows */
}
#define GW_JOUT_KEY(o, key)                                                    \
	gw_jout_key((o), "\"" key "\":", sizeof("\"" key "\":") - 1, "" key "")

/* Values: after a key, or as an array's elements. */
static inline void
gw_jout_open_(struct gw_jout *o, char c)
{
	if (o->b == NULL) {
		gw_jout_tree_open(o, c == '{');
		return;
	}
	gw_jout_separate_(o, 1);
	gw_jout_char_(o, c);
	o->comma = false;
}

static inline void
gw_jout_close_(struct gw_jout *o, char c)
{
	if (o->b == NULL) {
		gw_jout_tree_close(o);
		return;
	}
	gw_jbuf_reserve(o->b, 1);
	gw_jout_char_(o, c);
	o->comma = true;
}

static inline void
gw_jout_object(struct gw_jout *o)
{
	gw_jout_open_(o, '{');
}

static inline void
gw_jout_array(struct gw_jout *o)
{
	gw_jout_open_(o, '[');
}

static inline void
gw_jout_end_object(struct gw_jout *o)
{
	gw_jout_close_(o, '}');
}

static inline void
gw_jout_end_array(struct gw_jout *o)
{
	gw_jout_close_(o, ']');
}

/* s (NULL: "") as a JSON string. */
static inline void
gw_jout_string(struct gw_jout *o, const char *s)
{
	if (o->b == NULL) {
		gw_jout_tree_string(o, s);
		return;
	}
	gw_jout_separate_(o, 0);
	gw_json_write_string(o->b, s);
	o->comma = true;
}

/* A number as cJSON 1.7.15 prints one (json_write.h). */
void gw_jout_number(struct gw_jout *o, double d);
/* A FHIR decimal as its source wrote it: text is a finite JSON number
 * ("5.30"), written as it is, because a decimal's precision is part of
 * its value (FHIR R4 datatypes, decimal).  A tree gets a number node
 * that carries the text (json_write.h). */
void gw_jout_decimal(struct gw_jout *o, const char *text);
void gw_jout_bool(struct gw_jout *o, bool v);

/* n bytes of text that are one JSON value, written as they are (a tree
 * writer parses them; text that is not one value aborts). */
void gw_jout_raw(struct gw_jout *o, const char *text, size_t n);

/* Members under literal keys. */
#define GW_JOUT_STRING(o, key, s)                                              \
	(GW_JOUT_KEY(o, key), gw_jout_string((o), (s)))
#define GW_JOUT_NUMBER(o, key, d)                                              \
	(GW_JOUT_KEY(o, key), gw_jout_number((o), (d)))
#define GW_JOUT_DECIMAL(o, key, text)                                          \
	(GW_JOUT_KEY(o, key), gw_jout_decimal((o), (text)))
#define GW_JOUT_OBJECT(o, key) (GW_JOUT_KEY(o, key), gw_jout_object(o))
#define GW_JOUT_ARRAY(o, key) (GW_JOUT_KEY(o, key), gw_jout_array(o))
/* A string member only when value is non-NULL and non-empty (FHIR has
 * no empty strings). */
#define GW_JOUT_OPT_STRING(o, key, value)                                      \
	do {                                                                   \
		const char *gw_jout_v_ = (value);                              \
		if (gw_jout_v_ != NULL && gw_jout_v_[0] != '\0')               \
			GW_JOUT_STRING(o, key, gw_jout_v_);                    \
	} while (0)

#endif
