/*
 * One-line error messages into a caller's buffer: modules below main.c and
 * the screen never print, they return -errno and say why here.
 */
#ifndef TFT_ERR_MSG_H
#define TFT_ERR_MSG_H

#include <stddef.h>

/* snprintf into err (NULL or errlen 0: nothing is written). */
void err_msg(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* As err_msg, returning -EINVAL: `return err_inval(err, errlen, "bad ...")`. */
int err_inval(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* TFT_ERR_MSG_H */
