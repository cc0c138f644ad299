import { css } from 'lit';

/** The history section of an instance (its audit entries). */
export const instanceHistoryStyles = css`
  .history h3 {
    margin: 0;
  }
  .history-list {
    display: flex;
    flex-direction: column;
    gap: var(--_space-xs);
    margin: var(--_space-s) 0;
    padding: 0;
    list-style: none;
    font-size: var(--_font-size-s);
  }
  /* Time, then what happened in its own column: a long entry wraps under itself, not under the time. */
  .history-entry {
    display: grid;
    grid-template-columns: max-content minmax(0, 1fr);
    gap: var(--_space-s);
  }
  .history-entry time {
    color: var(--_color-text-muted);
    font-variant-numeric: tabular-nums;
  }
`;
