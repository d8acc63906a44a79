/*
 * json_out.c: JSON written in document order (see json_out.h).
 */
#include <string.h>

#include "gateway/json_out.h"

static inline void
put_char(struct gw_jbuf *b, char c)
{
	gw_jbuf_reserve(b, 1);
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

/* Before a value or a key: the comma owed to the one before it. */
static inline void
separate(struct gw_jout *o)
{
	if (o->comma)
		put_char(o->b, ',');
}

void
gw_jout_key_text(struct gw_jout *o, const char *text, size_t n)
{
	separate(o);
	gw_jbuf_reserve(o->b, n);
	memcpy(o->b->p + o->b->len, text, n);
	o->b->len += n;
	o->b->p[o->b->len] = '\0';
	o->comma = false; /* the member's value follows */
}

static void
open_container(struct gw_jout *o, char c)
{
	separate(o);
	put_char(o->b, c);
	o->comma = false;
}

static void
close_container(struct gw_jout *o, char c)
{
	put_char(o->b, c);
	o->comma = true;
}

void
gw_jout_object(struct gw_jout *o)
{
	open_container(o, '{');
}

void
gw_jout_array(struct gw_jout *o)
{
	open_container(o, '[');
}

void
gw_jout_end_object(struct gw_jout *o)
{
	close_container(o, '}');
}

void
gw_jout_end_array(struct gw_jout *o)
{
	close_container(o, ']');
}

void
gw_jout_string(struct gw_jout *o, const char *s)
{
	separate(o);
	gw_json_write_string(o->b, s);
	o->comma = true;
}

void
gw_jout_tree(struct gw_jout *o, const cJSON *item)
{
	separate(o);
	gw_json_write(o->b, item);
	o->comma = true;
}
