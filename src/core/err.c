/*
 * err - status vocabulary helpers.
 */
#include <errno.h>

#include "core/err.h"

const char *
ferr_name(enum ferr e)
{
	switch (e) {
	case FERR_NONE:		return "ok";
	case FERR_TEMP:		return "temp";
	case FERR_NOTFOUND:	return "notfound";
	case FERR_QUOTA:	return "quota";
	case FERR_NOSPACE:	return "nospace";
	case FERR_INVALID:	return "invalid";
	case FERR_PERM:		return "perm";
	case FERR_LIMIT:	return "limit";
	case FERR_EXISTS:	return "exists";
	case FERR_INTERNAL:	return "internal";
	}
	return "unknown";
}

enum ferr
ferr_from_errno(int errnum)
{
	switch (errnum) {
	case 0:
		return FERR_NONE;
	case ENOSPC:
	case EDQUOT:
		return FERR_NOSPACE;
	case ENOENT:
	case ENOTDIR:
		return FERR_NOTFOUND;
	case EEXIST:
	case ENOTEMPTY:
		return FERR_EXISTS;
	case EACCES:
	case EPERM:
	case EROFS:
		return FERR_PERM;
	case EAGAIN:
	case EINTR:
	case EBUSY:
	case ETIMEDOUT:
	case EMFILE:
	case ENFILE:
	case ENOMEM:
		return FERR_TEMP;
	case EINVAL:
	case ENAMETOOLONG:
		return FERR_INVALID;
	default:
		return FERR_INTERNAL;
	}
}
