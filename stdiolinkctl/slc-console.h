#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* how a cell is shown when colour is on; without colour every style is plain text */
typedef enum {
	SLC_STYLE_NONE,
	SLC_STYLE_HEADER,
	SLC_STYLE_GOOD,
	SLC_STYLE_WARN,
	SLC_STYLE_BAD,
	SLC_STYLE_DIM,
} SlcStyle;

gboolean slc_console_want_colour(int fd);
guint slc_console_display_width(const char *text);
char *slc_console_sanitize(const char *text);
void slc_console_print_error(const char *message);
char *slc_console_progress_bar(guint done, guint total, gboolean colour, guint *width);

typedef struct _SlcTable SlcTable;

SlcTable *slc_table_new(guint n_columns);
void slc_table_free(SlcTable *table);
void slc_table_add_header(SlcTable *table, const char *title);
void slc_table_add_cell(SlcTable *table, const char *text, SlcStyle style);
void slc_table_add_row(SlcTable *table, const char *first, ...) G_GNUC_NULL_TERMINATED;
guint slc_table_get_n_rows(SlcTable *table);
char *slc_table_render(SlcTable *table, gboolean colour);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SlcTable, slc_table_free)

G_END_DECLS
