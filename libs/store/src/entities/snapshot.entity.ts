import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'snapshots' })
export class SnapshotEntity {
  @PrimaryColumn({ type: 'text' })
  scope!: string;

  @PrimaryColumn({ type: 'integer' })
  version!: number;

  @Column({ type: 'text', name: 'framework_version' })
  frameworkVersion!: string;

  @Column({ type: 'text', name: 'content_hash' })
  contentHash!: string;

  @Column({ type: 'text', name: 'previous_hash', nullable: true })
  previousHash!: string | null;

  @Column({ type: 'jsonb', name: 'log_position' })
  logPosition!: unknown;

  // Inline content: versions written before content was chunked. Later ones keep chunks (the concatenated
  // digests of their snapshot_chunks rows, in order) and size instead.
  @Column({ type: 'bytea', nullable: true })
  content!: Buffer | null;

  @Column({ type: 'bytea', nullable: true })
  chunks!: Buffer | null;

  @Column({ type: 'bigint', nullable: true })
  size!: string | null;

  @Column({ type: 'text', name: 'scan_id', default: '' })
  scanId!: string;

  @Column({ type: 'timestamptz', name: 'created_at', insert: false, update: false })
  createdAt!: Date;
}
