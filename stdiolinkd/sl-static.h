#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* the web console: files of one folder, with the single-page-app fallback */

typedef struct _SlStatic SlStatic;

SlStatic *sl_static_new(const char *data_root, const char *webui_dir);
void sl_static_free(SlStatic *self);
gboolean sl_static_is_enabled(SlStatic *self);
gboolean sl_static_handle(SlStatic *self, SoupServerMessage *msg, const char *decoded_path);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SlStatic, sl_static_free)

G_END_DECLS
