import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'blobs' })
export class BlobEntity {
  @PrimaryColumn({ type: 'text' })
  digest!: string;

  @Column({ type: 'text', name: 'media_type' })
  mediaType!: string;

  // bigint arrives as a string from pg; converted at the repository edge.
  @Column({ type: 'bigint' })
  size!: string;

  @Column({ type: 'bytea' })
  content!: Buffer;

  @Column({ type: 'timestamptz', name: 'created_at', insert: false, update: false })
  createdAt!: Date;
}
