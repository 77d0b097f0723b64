#ifndef S7_VERSION_H
#define S7_VERSION_H

#define SECTOR7_VERSION "0.1.0"

#endif
