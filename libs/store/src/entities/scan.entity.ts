import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'scans' })
export class ScanEntity {
  @PrimaryColumn({ type: 'text', name: 'scan_id' })
  scanId!: string;

  @Column({ type: 'text' })
  scanner!: string;

  @Column({ type: 'text' })
  scope!: string;

  @Column({ type: 'text', name: 'target_key' })
  targetKey!: string;

  @Column({ type: 'text' })
  status!: string;

  @Column({ type: 'timestamptz', name: 'requested_at', nullable: true })
  requestedAt!: Date | null;

  @Column({ type: 'timestamptz', name: 'completed_at', nullable: true })
  completedAt!: Date | null;

  @Column({ type: 'text', array: true, name: 'finding_ids', nullable: true })
  findingIds!: string[] | null;

  @Column({ type: 'bytea', nullable: true })
  payload!: Buffer | null;
}
