// Internal to libs/store: the entity list the DataSource registers. Nothing here is exported from the package.
import { AssetEntity } from './asset.entity.js';
import { BlobEntity } from './blob.entity.js';
import { EventEntity } from './event.entity.js';
import { ExceptionEntity } from './exception.entity.js';
import { FindingEntity } from './finding.entity.js';
import { ScanEntity } from './scan.entity.js';
import { SnapshotEntity } from './snapshot.entity.js';

export { AssetEntity, BlobEntity, EventEntity, ExceptionEntity, FindingEntity, ScanEntity, SnapshotEntity };

export const ENTITIES = [
  BlobEntity,
  EventEntity,
  FindingEntity,
  ScanEntity,
  AssetEntity,
  ExceptionEntity,
  SnapshotEntity,
];
