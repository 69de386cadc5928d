import type { ImageView } from './types.ts';

export interface Layers {
  objects: boolean;
  faces: boolean;
  text: boolean;
  keypoints: boolean;
}

/** Overlay colours; the browser test samples the object colour on a box's edge. */
export const COLOURS = { objects: '#ff00ff', faces: '#00e5ff', text: '#ffd400', keypoints: '#00ff00' } as const;

/**
 * The result drawn over the picture as SVG in the image's own pixel coordinates (viewBox = width x height), so it
 * scales with the picture at any screen size; strokes keep 3 screen pixels. Labels are SVG text nodes (never HTML).
 */
export function Overlay({ view, layers }: { view: ImageView; layers: Layers }) {
  const info = view.image;
  if (!info) return null;
  const labelSize = Math.max(12, Math.round(info.width / 60));
  const dot = Math.max(2, info.width / 200);
  return (
    <svg class="overlay" viewBox={`0 0 ${info.width} ${info.height}`} preserveAspectRatio="none" aria-hidden="true">
      {layers.objects
        ? view.objects.map((object, index) => (
            <g key={`o${index}`} data-layer="objects">
              <rect
                x={object.box.x}
                y={object.box.y}
                width={object.box.width}
                height={object.box.height}
                fill="none"
                stroke={COLOURS.objects}
                stroke-width="3"
                vector-effect="non-scaling-stroke"
              />
              <text
                x={object.box.x + 4}
                y={object.box.y + labelSize + 2}
                font-size={labelSize}
                fill={COLOURS.objects}
                stroke="#000"
                stroke-width="0.5"
                paint-order="stroke"
              >
                {object.label} {Math.round(object.confidence * 100)}%
              </text>
            </g>
          ))
        : null}
      {layers.faces
        ? view.faces.map((face, index) => (
            <g key={`f${index}`} data-layer="faces">
              <rect
                x={face.box.x}
                y={face.box.y}
                width={face.box.width}
                height={face.box.height}
                fill="none"
                stroke={COLOURS.faces}
                stroke-width="3"
                vector-effect="non-scaling-stroke"
              />
              {Object.entries(face.landmarks).map(([name, point]) => (
                <circle
                  key={name}
                  cx={point.x}
                  cy={point.y}
                  r={Math.max(2, face.box.width / 40)}
                  fill={COLOURS.faces}
                />
              ))}
            </g>
          ))
        : null}
      {layers.text
        ? view.text.lines.map((line, index) => (
            <polygon
              key={`t${index}`}
              data-layer="text"
              points={line.polygon.map((point) => `${point.x},${point.y}`).join(' ')}
              fill="none"
              stroke={COLOURS.text}
              stroke-width="2"
              vector-effect="non-scaling-stroke"
            />
          ))
        : null}
      {layers.keypoints && view.features
        ? view.features.keypoints.map((point, index) => {
            // OpenCV's size is a diameter; its angle is degrees clockwise in image coordinates (y down).
            const radius = Math.max(dot * 2, point.size / 2);
            const turn = (point.angle * Math.PI) / 180;
            return (
              <g key={`k${index}`} data-layer="keypoints">
                <circle
                  cx={point.x}
                  cy={point.y}
                  r={radius}
                  fill="none"
                  stroke={COLOURS.keypoints}
                  stroke-width="2"
                  vector-effect="non-scaling-stroke"
                />
                <line
                  x1={point.x}
                  y1={point.y}
                  x2={point.x + radius * Math.cos(turn)}
                  y2={point.y + radius * Math.sin(turn)}
                  stroke={COLOURS.keypoints}
                  stroke-width="2"
                  vector-effect="non-scaling-stroke"
                />
                <circle cx={point.x} cy={point.y} r={dot} fill={COLOURS.keypoints} />
              </g>
            );
          })
        : null}
    </svg>
  );
}
