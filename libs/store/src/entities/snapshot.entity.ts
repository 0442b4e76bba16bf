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

  @Column({ type: 'bytea' })
  content!: Buffer;

  @Column({ type: 'text', name: 'scan_id', default: '' })
  scanId!: string;

  @Column({ type: 'timestamptz', name: 'created_at', insert: false, update: false })
  createdAt!: Date;
}
