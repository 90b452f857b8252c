/* sp_uuid: random (version 4) UUIDs. */
#ifndef SP_UUID_H
#define SP_UUID_H

/* sp_uuid4: a random UUID, lowercase with dashes (36 chars), into out. */
void sp_uuid4(char out[40]);

#endif
