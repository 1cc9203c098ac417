/*
 * predict.c
 */
#include "mosh.h"
